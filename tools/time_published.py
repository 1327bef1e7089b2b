#!/usr/bin/env python3
"""Time the published TISDiSS separator and this toolkit's in one run, and write the published seconds as a
baseline for `python -m espnet2.bin.enh_benchmark --baseline FILE`.

    python tools/time_published.py --published_repo ../TISDiSS --extra_path /path/to/site-packages \\
        --out published_baseline.yaml --seconds 1 4 --m_re 1 3 6

`--published_repo` is a checkout of the official repository (its `espnet2/enh/separator/tisdiss_separator.py`
is imported, with the packages it needs, e.g. rotary_embedding_torch, einops, librosa, on `--extra_path` or
in the Python that runs this script). Each measurement runs in a fresh process, the published code and this
toolkit alternately (`--rounds` times each; the median of the rounds is reported), through the same code:

- forward: STFT, the separator (flagship structure of `enh_benchmark`, eval mode, M_re set through
  `reconstructor_repeat_times`), iSTFT of the main estimate; batch 1 of `--seconds` s at 8 kHz;
- training step: the tiny config of `enh_benchmark` (batch 4 x 1 s): STFT, the separator in train mode (every
  exit), iSTFT, PIT SI-SNR on every exit, backward, AdamW.

The model's input normalisation and the ESPnet wrappers around the separator are left out on both sides
(they cost little), so the seconds differ slightly from `enh_benchmark`'s own rows; the ratio is the
separators'.

This toolkit's side tunes glibc's allocator as its entry points do (`espnet2.utils.allocator`); the published
side runs as its users run it, unless `--published_allocator tuned` gives it the same thresholds (through
glibc's MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_), for a comparison of the code alone.
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FS = 8000  # the presets are 8 kHz models


def child(spec: dict) -> dict:
    """Runs in a fresh process with the chosen code first on sys.path; returns the median seconds."""
    sys.path[:0] = spec["path"]
    import torch

    if spec["who"] == "this toolkit":
        from espnet2.utils.allocator import tune_allocator

        tune_allocator()  # as enh_inference, separate.py and enh_train do at start-up

    module = __import__("espnet2.enh.separator.tisdiss_separator", fromlist=["x"])
    cls = getattr(module, "TISDiSS_Separator", None) or getattr(module, "TISDiSSSeparator")
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    n_fft, hop = spec["n_fft"], spec["hop"]
    sep = cls(input_dim=n_fft // 2 + 1, **spec["conf"])
    win = torch.hann_window(n_fft)
    n = int(spec["seconds"] * FS)

    def stft(x):
        return torch.stft(x, n_fft, hop, window=win, return_complex=True).transpose(1, 2)

    def istft(e):
        return torch.istft(e.transpose(1, 2), n_fft, hop, window=win, length=n)

    if spec["what"] == "forward":
        sep.eval()
        mix = torch.randn(1, n)

        def run():
            with torch.inference_mode():
                est, _, _ = sep(stft(mix), torch.full((1,), n))
                return [istft(e) for e in est]

    else:
        sep.train()
        opt = torch.optim.AdamW(sep.parameters(), lr=1e-3)
        refs = torch.randn(2, spec["batch"], n)
        mix = refs.sum(0)

        def si_snr(ref, est, eps=1e-7):
            ref = ref - ref.mean(-1, keepdim=True)
            est = est - est.mean(-1, keepdim=True)
            t = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps) * ref
            return 10 * torch.log10(t.pow(2).sum(-1) / ((est - t).pow(2).sum(-1) + eps) + eps)

        def run():
            opt.zero_grad(set_to_none=True)
            est, _, others = sep(stft(mix), torch.full((spec["batch"],), n))
            loss = 0
            for exit_ in list(others.get("aux_speech_pre", [])) + [est]:
                wav = [istft(e) for e in exit_]
                perms = itertools.permutations(range(len(wav)))
                score = torch.stack([sum(si_snr(refs[j], wav[p[j]]) for j in range(len(wav))) for p in perms])
                loss = loss - score.max(0).values.mean() / len(wav)
            loss.backward()
            opt.step()

    for _ in range(spec["warmup"]):
        run()
    times = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times)}


def measure(spec: dict, env: dict) -> float:
    p = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(spec)],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        env=env,
    )
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-8:])
        raise SystemExit(f"time_published: the {spec['who']} code failed ({' '.join(spec['path'])}):\n{tail}")
    return json.loads(p.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--published_repo", type=Path, help="checkout of the official TISDiSS repository")
    parser.add_argument("--extra_path", type=Path, nargs="*", default=[], help="more import paths for it")
    parser.add_argument("--out", type=Path, help="baseline YAML for enh_benchmark --baseline (published seconds)")
    parser.add_argument("--seconds", type=float, nargs="+", default=[1.0], help="forward audio lengths")
    parser.add_argument("--m_re", type=int, nargs="+", default=[1, 3, 6], help="forward M_re values")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per process (median)")
    parser.add_argument("--train_repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="processes per side and measurement, alternated")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--published_allocator", choices=["plain", "tuned"], default="plain",
        help="plain: the published code as its users run it; tuned: with this toolkit's allocator thresholds",
    )  # fmt: skip
    parser.add_argument("--skip_forward", action="store_true")
    parser.add_argument("--skip_train", action="store_true")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        print(json.dumps(child(json.loads(args._child))))
        return 0
    if args.published_repo is None:
        parser.error("--published_repo is required (a checkout of the official TISDiSS repository)")
    module = args.published_repo / "espnet2" / "enh" / "separator" / "tisdiss_separator.py"
    if not module.is_file():
        raise SystemExit(f"time_published: {module} does not exist: --published_repo is the official repository's root")

    sys.path.insert(0, str(REPO))
    from espnet2.enh.presets import preset_config
    from espnet2.utils.allocator import MMAP_THRESHOLD, TRIM_THRESHOLD

    paths = {
        "published": [str(args.published_repo.resolve())] + [str(p.resolve()) for p in args.extra_path],
        "this toolkit": [str(REPO)],
    }
    # tune_allocator's thresholds as glibc's environment settings, for the published side
    tuned_malloc = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}
    plain_env = {k: v for k, v in os.environ.items() if k not in tuned_malloc}
    envs = {"published": dict(plain_env, **tuned_malloc) if args.published_allocator == "tuned" else plain_env,
            "this toolkit": plain_env}  # fmt: skip

    def stft_of(conf):
        return dict(n_fft=conf["encoder_conf"]["n_fft"], hop=conf["encoder_conf"]["hop_length"], threads=args.threads)

    jobs = []
    if not args.skip_forward:
        conf = preset_config("flagship")
        for seconds in args.seconds:
            for m_re in args.m_re:
                sep_conf = dict(conf["separator_conf"], reconstructor_repeat_times=m_re)
                jobs.append(((seconds, m_re), dict(what="forward", conf=sep_conf, seconds=seconds, batch=1,
                                                   repeats=args.repeats, warmup=1, **stft_of(conf))))  # fmt: skip
    if not args.skip_train:
        conf = preset_config("tiny")
        jobs.append(("train", dict(what="train", conf=conf["separator_conf"], seconds=1.0, batch=4,
                                   repeats=args.train_repeats, warmup=2, **stft_of(conf))))  # fmt: skip
    print(f"# {args.threads} threads; glibc allocator: published code {args.published_allocator}, this toolkit tuned "
          "(as its entry points)", flush=True)  # fmt: skip
    results = {}
    for key, spec in jobs:
        seen = {who: [] for who in paths}
        for _ in range(args.rounds):
            for who, path in paths.items():
                seen[who].append(measure(dict(spec, path=path, who=who), envs[who]))
        results[key] = {who: statistics.median(v) for who, v in seen.items()}
        pub, ours = results[key]["published"], results[key]["this toolkit"]
        what = "training step (tiny, batch 4 x 1 s)" if key == "train" else f"forward {key[0]:g} s, M_re {key[1]}"
        print(f"{what}: published {pub:.3f} s, this toolkit {ours:.3f} s: {pub / ours:.2f}x  "
              f"(rounds: {', '.join(f'{a:.3f}/{b:.3f}' for a, b in zip(seen['published'], seen['this toolkit']))})",
              flush=True)  # fmt: skip
    if args.out:
        lines = [f"source: the published separator timed by tools/time_published.py ({args.threads} threads, "
                 f"allocator {args.published_allocator})"]  # fmt: skip
        forward = {}
        for key, r in results.items():
            if key != "train":
                forward.setdefault(key[0], {})[key[1]] = r["published"]
        if forward:
            lines.append("forward:")
            for seconds, per_m in forward.items():
                lines.append(f"    {seconds:g}: {{{', '.join(f'{m}: {s:.4f}' for m, s in per_m.items())}}}")
        if "train" in results:
            lines.append(f"train_step: {results['train']['published']:.4f}")
        args.out.write_text("\n".join(lines) + "\n")
        print(f"baseline written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
