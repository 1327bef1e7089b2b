"""Time-domain criteria: si_snr, snr, ci_sdr, l1, mse. Each maps ref, est [B, N] -> loss [B]."""

import math

import torch

from espnet2.enh.loss.criterions.abs_loss import AbsEnhLoss


class TimeDomainLoss(AbsEnhLoss):
    """Base class holding the stats name of a criterion (`<name>` in the reported stats)."""

    default_name = "time_domain_loss"

    def __init__(self, name=None, only_for_test=False, is_noise_loss=False, is_dereverb_loss=False):
        super().__init__()
        if is_noise_loss or is_dereverb_loss:
            raise ValueError("criterions: noise and dereverberation losses are not supported in this toolkit")
        self._name = name or self.default_name
        self.only_for_test = only_for_test

    @property
    def name(self) -> str:
        return self._name


class SISNRLoss(TimeDomainLoss):
    """Negative scale-invariant SNR (dB), computed as the published criterion does (`fast_bss_eval.si_sdr_loss`).

    With zero-mean signals (`zero_mean`) each scaled to unit norm (norms clamped at 1e-6), coh = <e, s>^2 is the
    share of the estimate's energy that the scaled reference explains, and -SI-SNR = 10 log10((1 - coh) / coh).
    `clamp_db` keeps coh in [c, 1 - c] with c = e / (1 + e), e = 10^(-clamp_db / 10), i.e. SI-SNR in
    [-clamp_db, clamp_db]; without it coh is kept in [0, 1]. `eps` (ESPnet's older argument) only sets
    clamp_db = -10 log10(eps / (1 - eps)) when clamp_db is not given, so that c = eps (70 dB for eps 1e-7).
    """

    default_name = "si_snr_loss"

    def __init__(self, clamp_db=None, zero_mean=True, eps=None, **kwargs):
        super().__init__(**kwargs)
        if clamp_db is None and eps is not None:
            clamp_db = -10 * math.log10(eps / (1 - eps))
        self.clamp_db = clamp_db
        self.zero_mean = zero_mean
        if clamp_db is None:
            self.coh_min = 0.0
        else:  # fast_bss_eval's bound, computed the same way (the clamp is hit when est equals ref)
            e = 10.0 ** (-clamp_db / 10.0)
            self.coh_min = e / (1.0 + e)

    def forward(self, ref: torch.Tensor, inf: torch.Tensor) -> torch.Tensor:
        if ref.shape != inf.shape:
            raise ValueError(f"reference {tuple(ref.shape)} and estimate {tuple(inf.shape)} differ in shape")
        # at least float32 and outside autocast (which would run the einsum in half precision: 1 - 1e-7 rounds to
        # 1 there, giving -inf losses and NaN gradients); float64 training stays float64
        dtype = torch.promote_types(torch.promote_types(ref.dtype, inf.dtype), torch.float32)
        with torch.autocast(ref.device.type, enabled=False):
            ref, inf = ref.to(dtype), inf.to(dtype)
            if self.zero_mean:
                ref = ref - ref.mean(dim=-1, keepdim=True)
                inf = inf - inf.mean(dim=-1, keepdim=True)
            ref = ref / ref.norm(dim=-1, keepdim=True).clamp(min=1e-6)
            inf = inf / inf.norm(dim=-1, keepdim=True).clamp(min=1e-6)
            coh = (torch.einsum("...n,...n->...", ref, inf) ** 2).clamp(min=self.coh_min, max=1 - self.coh_min)
            return 10.0 * torch.log10((1 - coh) / coh)


class SNRLoss(TimeDomainLoss):
    """Negative SNR: 20 log10(||s|| / ||e - s||) (dB), norms clamped at eps."""

    default_name = "snr_loss"

    def __init__(self, eps=None, **kwargs):
        super().__init__(**kwargs)
        self.eps = torch.finfo(torch.get_default_dtype()).eps if eps is None else float(eps)

    def forward(self, ref: torch.Tensor, inf: torch.Tensor) -> torch.Tensor:
        noise = inf - ref
        snr = 20 * (
            torch.log10(ref.norm(p=2, dim=-1).clamp(min=self.eps))
            - torch.log10(noise.norm(p=2, dim=-1).clamp(min=self.eps))
        )
        return -snr


class CISDRLoss(TimeDomainLoss):
    """Negative convolutive-transfer-function-invariant SDR (the `ci-sdr` package), filter length 512."""

    default_name = "ci_sdr_loss"

    def __init__(self, filter_length: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.filter_length = filter_length

    def forward(self, ref: torch.Tensor, inf: torch.Tensor) -> torch.Tensor:
        import ci_sdr

        return ci_sdr.pt.ci_sdr_loss(inf, ref, compute_permutation=False, filter_length=self.filter_length)


def check_waveforms(criterion: TimeDomainLoss, ref: torch.Tensor, inf: torch.Tensor) -> None:
    """ref, inf: [B, N] or [B, N, C] of one shape (ESPnet's L1/MSE inputs), else a ValueError naming both."""
    if ref.shape != inf.shape or ref.dim() not in (2, 3):
        raise ValueError(
            f"{criterion.name}: expected reference and estimate of one shape [batch, samples] or "
            f"[batch, samples, channels], got {tuple(ref.shape)} and {tuple(inf.shape)}"
        )


class TimeDomainL1(TimeDomainLoss):
    """Mean absolute error over samples (and channels): [B, N(, C)] -> [B]."""

    default_name = "TD_L1_loss"

    def forward(self, ref: torch.Tensor, inf: torch.Tensor) -> torch.Tensor:
        check_waveforms(self, ref, inf)
        return (ref - inf).abs().flatten(1).mean(dim=1)


class TimeDomainMSE(TimeDomainLoss):
    """Mean squared error over samples (and channels): [B, N(, C)] -> [B]."""

    default_name = "TD_MSE_loss"

    def forward(self, ref: torch.Tensor, inf: torch.Tensor) -> torch.Tensor:
        check_waveforms(self, ref, inf)
        return (ref - inf).pow(2).flatten(1).mean(dim=1)
