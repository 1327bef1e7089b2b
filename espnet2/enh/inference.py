"""Separation with a trained model: the library behind enh_inference and separate.py.

``SeparateSpeech`` builds a model from a training ``config.yaml`` and ``.pth`` (or an experiment folder, or
a zip packed by ``python -m espnet2.bin.pack_model``) and separates mixtures: arrays, batches, long
recordings segment by segment, or a stream of blocks. TISDiSS's number of refinement repeats M_re is the
training value, a fixed override, or "auto" (adaptive: per utterance, refine until the outputs stop
changing)::

    from espnet2.enh.inference import SeparateSpeech

    separate = SeparateSpeech.from_model_path("exp/enh_train_xxx/valid.loss.ave_5best.pth", m_re=8)
    spk1, spk2 = separate(mixture)          # mixture [N] or [B, N] at separate.fs -> J arrays [B, N]

``add_m_re_arguments`` and ``add_dtype_argument`` give the command-line tools the same options.
"""

import argparse
import logging
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from espnet2.enh.segmenting import SegmentStitcher, separate_long
from espnet2.enh.separator.abs_refining_separator import AbsRefiningSeparator
from espnet2.enh.separator.published_arithmetic import published_arithmetic
from espnet2.tasks.enh import EnhancementTask
from espnet2.utils.config_io import load_config
from espnet2.utils.types import str2bool

# Top-level keys an inference config may override (as ESPnet's SeparateSpeech allows).
INFERENCE_CONFIG_KEYS = ("encoder", "encoder_conf", "separator", "separator_conf", "decoder", "decoder_conf")

DEFAULT_M_RE_MAX = 8
DEFAULT_M_RE_THRESHOLD = 0.02
OUTPUT_PEAK = 0.9  # normalize_output_wav: the peak of every output (ESPnet's and the official separate.py's)


def resolve_device(device: Optional[str] = None, ngpu: Optional[int] = None) -> str:
    """The torch device to use: ``device`` if given, else from ``ngpu`` (None: CUDA when present)."""
    if device not in (None, "auto"):
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"--device {device}: CUDA is not available here; use --device cpu")
        return device
    if ngpu is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if ngpu == 0:
        return "cpu"
    if ngpu > 1:
        raise ValueError(f"--ngpu {ngpu}: inference uses one GPU; run parallel jobs for more")
    if not torch.cuda.is_available():
        raise ValueError("--ngpu 1: CUDA is not available here; use --ngpu 0 (CPU)")
    return "cuda"


def parse_m_re(value: Union[str, int, None]) -> Union[int, str, None]:
    """``--m_re``: a positive integer or "auto" (None: keep the model's)."""
    if value is None or value == "auto":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(f"--m_re: expected a positive integer or 'auto', got {value!r}")


def load_inference_config(path: Union[str, Path]) -> Dict[str, Any]:
    """Read an inference config (overrides of encoder/separator/decoder and their ``_conf``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--inference_config {path} does not exist")
    conf = load_config(path)
    unknown = [k for k in conf if k not in INFERENCE_CONFIG_KEYS]
    if unknown:
        raise ValueError(
            f"{path}: unsupported top-level key(s) {', '.join(map(str, unknown))}; an inference config "
            f"may only override {', '.join(INFERENCE_CONFIG_KEYS)}"
        )
    return conf


def find_model_files(model_path: Union[str, Path]) -> Tuple[Path, Path]:
    """(config.yaml, model .pth) for a ``.pth`` with config.yaml beside it, or an experiment folder."""
    model_path = Path(model_path)
    if not model_path.exists():
        raise FileNotFoundError(f"--model_path {model_path} does not exist")
    if model_path.is_dir():
        config = model_path / "config.yaml"
        pths = sorted(p for p in model_path.glob("*.pth") if p.name != "checkpoint.pth")
        # the trainer's valid.loss.ave.pth is a link to valid.loss.ave_<n>best.pth: one model, not two
        pths = [p for p in pths if not any(q != p and q.resolve() == p.resolve() and p.is_symlink() for q in pths)]
        preferred = [p for p in pths if p.name.startswith("valid.") and ".ave" in p.name]
        preferred = preferred or [p for p in pths if p.name.startswith("valid.") and p.name.endswith(".best.pth")]
        preferred = preferred or pths
        if len(preferred) != 1:
            names = ", ".join(p.name for p in pths) or "none"
            raise ValueError(
                f"--model_path {model_path}: cannot tell which model file to use (.pth files: {names}); "
                "give the .pth file itself"
            )
        model_file = preferred[0]
    else:
        model_file = model_path
        config = model_path.parent / "config.yaml"
    if not config.exists():
        raise FileNotFoundError(
            f"--model_path {model_path}: no config.yaml beside it ({config}); the training config is needed "
            "to build the model (or give a packed model .zip)"
        )
    return config, model_file


class SeparateSpeech:
    """Separate mixtures with a trained ESPnet-Enh model (``ESPnetEnhancementModel``).

    Args:
        train_config: the training config.yaml (default: config.yaml beside ``model_file``)
        model_file: the model .pth (None: random weights, for tests)
        inference_config: YAML overriding encoder/separator/decoder options, e.g. M_re
        m_re: None (the model's), an integer >= 1, or "auto" (adaptive, TISDiSS only)
        m_re_max: the most refinement repeats with "auto"
        m_re_threshold: "auto" stops once the relative change of the outputs between two
            successive repeats, ``sqrt(sum_j |y_j^m - y_j^(m-1)|^2 / sum_j |y_j^m|^2)``, is below this
            (so an utterance gets at least 2 repeats unless ``m_re_max`` is 1; the default is a
            starting point, not yet tuned on data)
        segment_size: seconds; longer inputs are separated segment by segment (None: at once)
        hop_size: seconds between segment starts (default: 3/4 of ``segment_size``)
        fs: sample rate of the input (default: the model's ``encoder_conf.default_fs``, else 8000)
        normalize_output_wav: scale each output to a peak of ``OUTPUT_PEAK`` (ESPnet's option)
        normalize_segment_scale: with ``segment_size``, scale the outputs of each segment so that their sum has
            the RMS of the mixture segment (ESPnet's option; segments of a stream too)
        ref_channel: the channel separated when a multi-channel mixture [B, N, C] is given (the model
            separates one channel; ESPnet's option; None: multi-channel input is refused)
        show_progressbar: a progress bar over the segments of long inputs
        device: "cpu", "cuda", "cuda:1" ... (None: CUDA when present)
        dtype: "float32", or "bfloat16" / "float16" to run the model under autocast (matmuls and the fused
            attention kernels in that dtype; norms, RoPE and the STFT stay float32). bfloat16 is the one to
            use on recent GPUs; float16 is CUDA-only. ESPnet's float64 (the model cast to float64) is refused.
        published_arithmetic: compute a TISDiSS separator in the published code's order of operations
            (`espnet2.enh.separator.published_arithmetic`): its outputs bit for bit, slower than the default
        enh_s2t_task: ESPnet's enhancement + speech-to-text models; only False.
    Attributes:
        model: the ESPnetEnhancementModel (eval mode)
        num_spk: J
        last_m_re: M_re used for each utterance of the last call (the mean over segments when
            an input was segmented; 0 for a silent input with "auto")
    """

    def __init__(
        self,
        train_config: Union[str, Path, None] = None,
        model_file: Union[str, Path, None] = None,
        inference_config: Union[str, Path, Dict[str, Any], None] = None,
        m_re: Union[int, str, None] = None,
        m_re_max: int = DEFAULT_M_RE_MAX,
        m_re_threshold: float = DEFAULT_M_RE_THRESHOLD,
        segment_size: Optional[float] = None,
        hop_size: Optional[float] = None,
        fs: Optional[int] = None,
        normalize_output_wav: bool = False,
        show_progressbar: bool = False,
        device: Optional[str] = None,
        dtype: str = "float32",
        published_arithmetic: bool = False,
        normalize_segment_scale: bool = False,
        ref_channel: Optional[int] = None,
        enh_s2t_task: bool = False,
    ):
        if enh_s2t_task:
            raise ValueError(
                "SeparateSpeech(enh_s2t_task=True): ESPnet's enhancement + speech-to-text models are not part of "
                "this toolkit (separation models only); remove it"
            )
        if dtype == "float64":
            raise ValueError(
                "--dtype float64: ESPnet casts the model to float64; this toolkit separates in float32 or under "
                "autocast (bfloat16, float16 on CUDA): use float32"
            )
        self.device = resolve_device(device)
        self.published_arithmetic = bool(published_arithmetic)
        autocast_dtypes = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
        if dtype not in autocast_dtypes or (dtype == "float16" and not self.device.startswith("cuda")):
            raise ValueError(f"--dtype {dtype!r} is not supported on {self.device}; use float32 or bfloat16")
        self.autocast_dtype = autocast_dtypes[dtype]
        overrides = None
        if inference_config is not None:
            overrides = (
                dict(inference_config)
                if isinstance(inference_config, dict)
                else load_inference_config(inference_config)
            )
        self.model, self.train_args = EnhancementTask.build_model_from_file(
            train_config, model_file, self.device, overrides=overrides
        )
        self.model.eval()
        self.num_spk = self.model.num_spk

        self.m_re = parse_m_re(m_re)
        if isinstance(self.m_re, int):
            self.model.set_m_re(self.m_re)
        elif self.m_re == "auto":
            if not isinstance(self.model.separator, AbsRefiningSeparator):
                raise ValueError(
                    f"--m_re auto: separator {type(self.model.separator).__name__} has no refinement repeats"
                )
            if int(m_re_max) < 1 or m_re_threshold <= 0:
                raise ValueError(
                    f"--m_re auto needs m_re_max >= 1 and m_re_threshold > 0, got {m_re_max}, {m_re_threshold}"
                )
        self.m_re_max = int(m_re_max)
        self.m_re_threshold = float(m_re_threshold)

        model_fs = getattr(self.model.encoder, "fs", None)
        if fs is not None and model_fs is not None and int(fs) != int(model_fs):
            raise ValueError(
                f"the model works at {model_fs} Hz (encoder_conf.default_fs of its config) but the sample rate "
                f"given is {fs} Hz; resample the data to {model_fs} Hz (or pass --fs {model_fs})"
            )
        if fs is None:
            fs = model_fs
        self.fs_assumed = fs is None
        if fs is None:
            fs = 8000
            logging.info("The model config does not state its sample rate (encoder_conf.default_fs); assuming 8000 Hz")
        self.fs = int(fs)

        if segment_size is not None and segment_size <= 0:
            segment_size = None
        if segment_size is None and hop_size is not None:
            raise ValueError("--hop_size needs --segment_size")
        if segment_size is not None and hop_size is None:
            hop_size = 0.75 * segment_size
        self.segment_size = segment_size
        self.hop_size = hop_size
        if segment_size is not None:
            seg, hop = self._segment_samples(self.fs)
            if not 0 < hop < seg:
                raise ValueError(
                    f"--hop_size {hop_size} must be positive and smaller than --segment_size {segment_size}"
                )
        self.normalize_output_wav = normalize_output_wav
        self.normalize_segment_scale = normalize_segment_scale
        self.ref_channel = ref_channel
        self.show_progressbar = show_progressbar
        # The STFT needs at least one frame (reflect padding of n_fft/2): shorter inputs are zero-padded.
        stft = getattr(self.model.encoder, "stft", None)
        self.min_length = int(getattr(stft, "n_fft", 1))
        self.last_m_re: List[float] = []

    # ---------------------------------------------------------------- construction helpers
    @classmethod
    def from_packed(cls, packed: Union[str, Path], **kwargs) -> "SeparateSpeech":
        """From a zip written by ``python -m espnet2.bin.pack_model``."""
        from espnet2.main_funcs.pack_funcs import unpack_model

        with tempfile.TemporaryDirectory(prefix="tisdiss_model_") as tmp:
            files = unpack_model(packed, tmp)
            return cls(files["train_config"], files["model_file"], **kwargs)

    @classmethod
    def from_pretrained(cls, model_tag: Optional[str] = None, **kwargs) -> "SeparateSpeech":
        """ESPnet's constructor from a model-zoo tag: only without a tag (`cls(**kwargs)`)."""
        if model_tag is not None:
            raise ValueError(
                f"model_tag={model_tag!r}: downloading from espnet_model_zoo is not part of this toolkit; download "
                "the model yourself and give its .pth (or folder, or packed .zip) to SeparateSpeech.from_model_path"
            )
        return cls(**kwargs)

    @classmethod
    def from_model_path(cls, model_path: Union[str, Path], **kwargs) -> "SeparateSpeech":
        """From a packed ``.zip``, a ``.pth`` with config.yaml beside it, or an experiment folder."""
        path = Path(model_path)
        if path.is_file() and path.suffix == ".zip":
            return cls.from_packed(path, **kwargs)
        config, model_file = find_model_files(path)
        return cls(config, model_file, **kwargs)

    @property
    def current_m_re(self) -> Optional[int]:
        """The fixed M_re in use (None for a separator without refinement repeats)."""
        separator = self.model.separator
        return separator.m_re if isinstance(separator, AbsRefiningSeparator) else None

    def _segment_samples(self, fs: int) -> Tuple[int, int]:
        return int(round(self.segment_size * fs)), int(round(self.hop_size * fs))

    # ---------------------------------------------------------------- core
    @torch.no_grad()
    def separate_batch(
        self, mix: torch.Tensor, lengths: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, List[int]]:
        """One forward pass.

        Args:
            mix: [B, L] float mixture (zero-padded beyond ``lengths``)
            lengths: [B] valid samples (None: all L)
        Returns:
            est: [B, J, L] float32 estimates (exactly zero beyond each length and for silent inputs)
            m_re: [B] the M_re used per utterance (0 for a silent input with "auto"; None for a
                separator without refinement repeats)
        """
        mix = mix.to(self.device, torch.float32)
        batch, length = mix.shape
        if lengths is None:
            lengths = torch.full((batch,), length, dtype=torch.long)
        lengths = lengths.to(self.device)
        silent = mix.abs().amax(dim=1) == 0
        fixed_m = self.current_m_re
        if bool(silent.all()):
            return mix.new_zeros(batch, self.num_spk, length), [0 if self.m_re == "auto" else fixed_m] * batch
        if length < self.min_length:
            mix = torch.nn.functional.pad(mix, (0, self.min_length - length))
        device_type = torch.device(self.device).type
        autocast = torch.autocast(device_type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None)
        with autocast, published_arithmetic(self.published_arithmetic):
            if self.m_re == "auto":
                est, m_re = self._separate_adaptive(mix, lengths)
            else:
                est = torch.stack(self.model.separate(mix, lengths), dim=1)
                m_re = [fixed_m] * batch
        est = est[..., :length].float()
        valid = torch.arange(length, device=est.device)[None, :] < lengths[:, None]  # [B, L]
        est = est * valid[:, None, :] * (~silent)[:, None, None]
        if not bool(torch.isfinite(est).all()):
            raise FloatingPointError("the model produced non-finite output (NaN/inf) for this input")
        m_re = [0 if bool(s) and self.m_re == "auto" else m for s, m in zip(silent.tolist(), m_re)]
        return est, m_re

    def _separate_adaptive(self, mix: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, List[int]]:
        """Refine each utterance until its outputs change by less than ``m_re_threshold``.

        Returns [B, J, L] estimates and the M_re chosen per utterance.
        """
        batch = mix.shape[0]
        done = torch.zeros(batch, dtype=torch.bool, device=mix.device)
        chosen = torch.full((batch,), self.m_re_max, dtype=torch.long)
        result, prev = None, None
        refinements = self.model.iter_refinements(mix, lengths, max_m_re=self.m_re_max)
        try:
            for m, wavs in refinements:
                cur = torch.stack(wavs, dim=1)  # [B, J, L]
                valid = torch.arange(cur.shape[-1], device=cur.device)[None, None, :] < lengths[:, None, None]
                cur = cur * valid
                if prev is None:
                    result = cur.clone()
                else:
                    diff = (cur - prev).pow(2).sum(dim=(1, 2))
                    energy = cur.pow(2).sum(dim=(1, 2)).clamp(min=1e-20)
                    change = (diff / energy).sqrt()
                    logging.debug(f"M_re {m}: relative change {change.tolist()}")
                    result[~done] = cur[~done]
                    newly = (~done) & (change < self.m_re_threshold)
                    chosen[newly.cpu()] = m
                    done |= newly
                    if bool(done.all()):
                        break
                prev = cur
        finally:
            refinements.close()
        return result, chosen.tolist()

    def _separate_array(self, seg: np.ndarray, record: List[int]) -> np.ndarray:
        """[L] -> [J, L] numpy (the stitcher's ``separate_fn``); appends the M_re used to ``record``.

        With ``normalize_segment_scale`` the outputs are scaled so that their sum has the RMS of ``seg``.
        """
        est, m_re = self.separate_batch(torch.from_numpy(np.ascontiguousarray(seg, dtype=np.float32))[None])
        record.extend(m_re)
        est = est[0].cpu().numpy()
        if self.normalize_segment_scale:
            mix_rms = np.sqrt(np.mean(np.square(seg, dtype=np.float64)))
            est_rms = np.sqrt(np.mean(np.square(est.sum(axis=0), dtype=np.float64)))
            if est_rms > 0:
                est = (est * (mix_rms / est_rms)).astype(np.float32)
        return est

    def _normalize_output(self, wav: np.ndarray) -> np.ndarray:
        peak = np.abs(wav).max(axis=-1, keepdims=True)
        return np.where(peak > 0, wav / np.where(peak > 0, peak, 1) * OUTPUT_PEAK, wav)

    def __call__(
        self,
        speech_mix: Union[torch.Tensor, np.ndarray],
        fs: Optional[int] = None,
        lengths: Union[torch.Tensor, np.ndarray, Sequence[int], None] = None,
    ) -> List[np.ndarray]:
        """Separate a batch of mixtures.

        Args:
            speech_mix: [N] or [B, N] mixture at ``fs`` (the model's rate); [B, N, C] with ``ref_channel``
            fs: sample rate of ``speech_mix`` (default: ``self.fs``); used for the segment lengths
            lengths: [B] valid samples of each mixture (default: N)
        Returns:
            J arrays [B, N] (float32), speaker j of every utterance; zero beyond each length.
        """
        fs = int(fs or self.fs)
        if isinstance(speech_mix, np.ndarray):
            speech_mix = torch.from_numpy(speech_mix)
        if speech_mix.dim() == 1:
            speech_mix = speech_mix[None]
        if speech_mix.dim() == 3:  # [B, N, C]
            if self.ref_channel is None:
                raise ValueError(
                    f"a multi-channel mixture {tuple(speech_mix.shape)} [batch, samples, channels]: the model "
                    "separates one channel; give ref_channel (SeparateSpeech(ref_channel=0), --ref_channel 0)"
                )
            if not -speech_mix.shape[2] <= self.ref_channel < speech_mix.shape[2]:
                raise ValueError(f"ref_channel {self.ref_channel}: the mixture has {speech_mix.shape[2]} channels")
            speech_mix = speech_mix[:, :, self.ref_channel]
        if speech_mix.dim() != 2:
            raise ValueError(f"expected a mixture [N] or [B, N], got shape {tuple(speech_mix.shape)}")
        speech_mix = speech_mix.float()
        batch, length = speech_mix.shape
        if lengths is None:
            lengths = torch.full((batch,), length, dtype=torch.long)
        lengths = torch.as_tensor(lengths, dtype=torch.long)

        out = np.zeros((self.num_spk, batch, length), dtype=np.float32)
        if self.segment_size is not None and length > self._segment_samples(fs)[0]:
            # Long input: each utterance on its own, segment by segment.
            seg, hop = self._segment_samples(fs)
            self.last_m_re = []
            for b in range(batch):
                n = int(lengths[b])
                record: List[int] = []
                bar = self._progressbar(n)
                wav = separate_long(
                    lambda x: self._separate_array(x, record),
                    speech_mix[b, :n].cpu().numpy(),
                    seg,
                    hop,
                    self.num_spk,
                    progress=None if bar is None else (lambda p: bar.update(p - bar.n)),
                )
                if bar is not None:
                    bar.close()
                out[:, b, :n] = wav
                self.last_m_re.append(self._summarize_m_re(record))
        else:
            est, m_re = self.separate_batch(speech_mix, lengths)
            out[:] = est.cpu().numpy().transpose(1, 0, 2)
            self.last_m_re = [self._summarize_m_re([m]) for m in m_re]
        if self.normalize_output_wav:
            out = self._normalize_output(out)
        return list(out)

    def separate_stream(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Separate a stream of mono blocks [n] at ``self.fs``; yields finished output [J, m].

        With ``segment_size`` the memory in use is bounded by the segment length; without it the
        whole input is gathered and separated at once. ``normalize_output_wav`` does not apply.
        After the last block, ``last_m_re`` holds one value (the mean over segments).
        """
        record: List[int] = []
        if self.segment_size is None:
            mix = np.concatenate([np.asarray(b, dtype=np.float32) for b in blocks] or [np.zeros(0, np.float32)])
            if mix.shape[0]:
                yield self._separate_array(mix, record)
        else:
            seg, hop = self._segment_samples(self.fs)
            stitcher = SegmentStitcher(lambda x: self._separate_array(x, record), seg, hop)
            for block in blocks:
                yield from stitcher.feed(block)
            yield from stitcher.flush()
        self.last_m_re = [self._summarize_m_re(record)] if record else []

    def _summarize_m_re(self, record: List[Optional[int]]) -> Optional[float]:
        """The M_re of an utterance: the mean over its segments (None without refinement repeats)."""
        if not record or record[0] is None:
            return None
        return float(np.mean(record))

    def _progressbar(self, total: int):
        if not self.show_progressbar:
            return None
        from tqdm import tqdm

        return tqdm(total=total, unit="sample", unit_scale=True, leave=False, desc="segments")


def add_m_re_arguments(parser, m_re_help: str):
    """--m_re, --m_re_max, --m_re_threshold (shared by enh_inference and separate.py)."""
    parser.add_argument("--m_re", type=parse_m_re, default=None, help=f"Refinement repeats M_re (TISDiSS): {m_re_help}")
    parser.add_argument("--m_re_max", type=int, default=DEFAULT_M_RE_MAX, help="The most repeats with --m_re auto")
    parser.add_argument(
        "--m_re_threshold", type=float, default=DEFAULT_M_RE_THRESHOLD,
        help="--m_re auto stops once the relative change of the outputs between two repeats is below this",
    )  # fmt: skip


def add_arithmetic_argument(parser):
    parser.add_argument(
        "--published_arithmetic",
        type=str2bool,
        default=False,
        help="TISDiSS in the published code's order of operations: its outputs bit for bit, slower",
    )


def add_dtype_argument(parser):
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=["float32", "bfloat16", "float16"],
        help="float32, or autocast to bfloat16 (GPU or CPU) / float16 (GPU) with fused attention kernels",
    )
