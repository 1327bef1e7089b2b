"""Pack a trained model into a zip for sharing, and unpack it (ESPnet's ``espnet2.main_funcs.pack_funcs``).

The zip holds the training config, the model ``.pth`` and ``meta.yaml``::

    meta.yaml                      files: {model_file: ...}, yaml_files: {train_config: ...},
                                   timestamp, python, torch, tisdiss versions
    exp/enh_train_xxx/config.yaml
    exp/enh_train_xxx/valid.loss.ave_5best.pth
    exp/enh_train_xxx/RESULTS.md   (and whatever else is given as options)

``python -m espnet2.bin.pack_model`` is the command line; ``unpack_model`` extracts such a zip and returns
where its config and model file are (``separate.py --model_path packed_model.zip``, ``SeparateSpeech.from_packed``).
"""

import os
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Union

import torch
import yaml

META = "meta.yaml"


def _arcname(path: Path) -> str:
    """Name inside the archive: the path relative to the current directory when it is below it."""
    resolved = path.resolve()
    try:
        rel = resolved.relative_to(Path.cwd().resolve())
    except ValueError:
        rel = Path(resolved.parent.name) / resolved.name
    return rel.as_posix()


def _version() -> str:
    try:
        return metadata.version("tisdiss")
    except metadata.PackageNotFoundError:
        return "unknown"


def pack_model(
    train_config: Union[str, Path],
    model_file: Union[str, Path],
    outpath: Union[str, Path],
    options: Optional[List[Union[str, Path]]] = None,
) -> Path:
    """Write the zip. Options may be files or directories (added recursively)."""
    train_config, model_file, outpath = Path(train_config), Path(model_file), Path(outpath)
    for option_name, path in (("--train_config", train_config), ("--model_file", model_file)):
        if not path.is_file():
            raise FileNotFoundError(f"{option_name} {path} does not exist")
    extra: List[Path] = []
    for opt in options or []:
        opt = Path(opt)
        if opt.is_dir():
            extra.extend(sorted(p for p in opt.rglob("*") if p.is_file()))
        elif opt.is_file():
            extra.append(opt)
        else:
            raise FileNotFoundError(f"--option {opt} does not exist")

    meta = {
        "files": {"model_file": _arcname(model_file)},
        "yaml_files": {"train_config": _arcname(train_config)},
        "timestamp": time.time(),
        "python": sys.version.split()[0],
        "torch": str(torch.__version__),
        "tisdiss": _version(),
    }
    outpath.parent.mkdir(parents=True, exist_ok=True)
    tmp = outpath.with_name(outpath.name + ".tmp")
    names = set()
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(META, yaml.safe_dump(meta, sort_keys=False))
        for path in [train_config, model_file] + extra:
            name = _arcname(path)
            if name in names or name == META:
                continue
            names.add(name)
            zf.write(path, name)
    os.replace(tmp, outpath)
    return outpath


def unpack_model(archive: Union[str, Path], outdir: Union[str, Path]) -> Dict[str, str]:
    """Extract a packed model into ``outdir``.

    Returns:
        {"train_config": path, "model_file": path} (paths under ``outdir``)
    """
    archive, outdir = Path(archive), Path(outdir)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{archive}: not a packed model zip ({e})") from None
    with zf:
        names = zf.namelist()
        if META not in names:
            raise ValueError(f"{archive}: has no {META}; pack it with python -m espnet2.bin.pack_model")
        for name in names:
            p = PurePosixPath(name)
            if p.is_absolute() or ".." in p.parts:
                raise ValueError(f"{archive}: refusing to extract the unsafe member name {name!r}")
        meta = yaml.safe_load(zf.read(META)) or {}
        wanted = {
            "train_config": (meta.get("yaml_files") or {}).get("train_config"),
            "model_file": (meta.get("files") or {}).get("model_file"),
        }
        for key, name in wanted.items():
            if name not in names:
                raise ValueError(f"{archive}: {META} names {key} {name!r}, which the archive lacks")
        zf.extractall(outdir)
    return {key: str(outdir / name) for key, name in wanted.items()}
