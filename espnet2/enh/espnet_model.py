"""ESPnetEnhancementModel: waveform -> (loss, stats, weight) in training, waveform -> estimates at inference."""

import contextlib
from typing import Dict, Iterator, List, Optional, Tuple

import torch

from espnet2.enh.decoder.abs_decoder import AbsDecoder
from espnet2.enh.encoder.abs_encoder import AbsEncoder
from espnet2.enh.loss.wrappers.abs_wrapper import AbsLossWrapper
from espnet2.enh.separator.abs_refining_separator import AbsRefiningSeparator
from espnet2.enh.separator.abs_separator import AbsSeparator


class ESPnetEnhancementModel(torch.nn.Module):
    """Encoder -> separator -> decoder, with the loss over the main and every auxiliary estimate.

    Signal path: (optionally) divide the mixture [B, N] by its unbiased std, encode to complex [B, T, F],
    separate into J estimates (+ the auxiliary estimates of the exits, for the training and validation loss),
    decode each to [B, N], multiply by the std.
    The loss of each wrapper is the mean of its loss on the main estimate and on every auxiliary estimate (each
    solving its own permutation with `independent_perm`); the total is the weighted sum over wrappers.

    Args:
        encoder, separator, decoder: the three parts.
        loss_wrappers: wrappers around criteria; their weighted sum is the loss of one estimate.
        normalize_variance: divide the mixture by its standard deviation over time (and estimates back).
        normalize_variance_per_ch: the same per channel; the model takes single-channel [B, N] mixtures, for
            which this is the same division (ESPnet refuses both at once, and so does this model).
        extract_feats_in_collect_stats: false skips the feature statistics of the stats stage (the shape
            files are written either way), as in ESPnet.
        loss_type, mask_type: deprecated in ESPnet, which ignores them (the loss comes from `criterions`);
            accepted only at ESPnet's defaults ("mask_mse", None) so that no other value passes unnoticed.
        Other ESPnet-Enh options (mask_module, stft_consistency, flexible_numspk, categories,
        category_weights, always_forward_in_48k) are accepted only at their defaults.
    """

    def __init__(
        self,
        encoder: AbsEncoder,
        separator: AbsSeparator,
        decoder: AbsDecoder,
        mask_module=None,
        loss_wrappers: Optional[List[AbsLossWrapper]] = None,
        stft_consistency: bool = False,
        loss_type: str = "mask_mse",
        mask_type: Optional[str] = None,
        flexible_numspk: bool = False,
        extract_feats_in_collect_stats: bool = False,
        normalize_variance: bool = False,
        normalize_variance_per_ch: bool = False,
        categories: Optional[list] = None,
        category_weights: Optional[list] = None,
        always_forward_in_48k: bool = False,
    ):
        super().__init__()
        unsupported = dict(
            mask_module=mask_module is not None, stft_consistency=stft_consistency, flexible_numspk=flexible_numspk,
            categories=bool(categories), category_weights=bool(category_weights),
            always_forward_in_48k=always_forward_in_48k,
        )  # fmt: skip
        for option, used in unsupported.items():
            if used:
                raise ValueError(f"model_conf: {option} is not supported by this toolkit; remove it from the config")
        for option, value, default in (("loss_type", loss_type, "mask_mse"), ("mask_type", mask_type, None)):
            if value != default:
                raise ValueError(
                    f"model_conf: {option}={value!r} has no effect: ESPnet keeps {option} only for old configs and "
                    f"ignores it, the loss is set by `criterions`; remove {option} (or leave it at {default!r})"
                )
        if normalize_variance and normalize_variance_per_ch:
            raise ValueError(
                "model_conf: normalize_variance and normalize_variance_per_ch cannot both be true (as in ESPnet); "
                "keep one"
            )
        self.encoder = encoder
        self.separator = separator
        self.decoder = decoder
        self.loss_wrappers = torch.nn.ModuleList(loss_wrappers or [])
        names = [w.criterion.name for w in self.loss_wrappers]
        if len(set(names)) != len(names):
            raise ValueError(f"criterions: duplicated loss names are not allowed: {names} (give each a `name`)")
        self.num_spk = separator.num_spk
        self.normalize_variance = normalize_variance
        self.normalize_variance_per_ch = normalize_variance_per_ch
        self.extract_feats_in_collect_stats = extract_feats_in_collect_stats

    # ---------------------------------------------------------------- training
    def forward(
        self, speech_mix: torch.Tensor, speech_mix_lengths: Optional[torch.Tensor] = None, **kwargs
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], torch.Tensor]:
        """speech_mix [B, N], speech_ref1 .. speech_refJ [B, N] -> (loss, stats, weight = B)."""
        missing = [f"speech_ref{j + 1}" for j in range(self.num_spk) if f"speech_ref{j + 1}" not in kwargs]
        if missing:
            raise ValueError(f"the batch has no {', '.join(missing)}: the data needs one spk{{j}}.scp per speaker")
        if not self.loss_wrappers:
            raise ValueError("the config has no `criterions`: training needs at least one loss")
        lengths = self._lengths(speech_mix, speech_mix_lengths)
        n = int(lengths.max())
        speech_mix = speech_mix[:, :n]
        refs = [kwargs[f"speech_ref{j + 1}"][:, :n].float() for j in range(self.num_spk)]
        main, aux = self.forward_enhance(speech_mix, lengths)
        loss, stats = self.forward_loss(refs, main, aux)
        stats["loss"] = loss.detach()
        return loss, stats, torch.tensor(speech_mix.shape[0], device=loss.device)

    def forward_enhance(
        self, speech_mix: torch.Tensor, speech_lengths: Optional[torch.Tensor] = None
    ) -> Tuple[List[torch.Tensor], Optional[List[List[torch.Tensor]]]]:
        """-> (main: J [B, N], aux: the auxiliary estimates, each J [B, N]; None if the separator gives none)."""
        lengths = self._lengths(speech_mix, speech_lengths)
        mix, std = self._normalize(speech_mix)
        feats, flens = self.encoder(mix, lengths)
        spec, _, others = self.separator(feats, flens)
        aux = others.get("aux_speech_pre")
        if aux is not None:
            aux = [self._decode(est, lengths, std) for est in aux]
        return self._decode(spec, lengths, std), aux

    def forward_loss(
        self, refs: List[torch.Tensor], main: List[torch.Tensor], aux: Optional[List[List[torch.Tensor]]]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Weighted sum over wrappers of the mean of the wrapper's loss over the main and the auxiliary estimates.

        As in the published ESPnet-Enh model: wrapper w on the main estimate receives the permutation found by
        wrapper w-1 on it, and on each auxiliary estimate the one wrapper w found on the main estimate (used
        only when `independent_perm` is false); criteria with `only_for_test` are skipped in training (an
        AttributeError, as in ESPnet, when no other criterion is left), and a wrapper of weight 0 is computed
        without gradient (reported only).
        Stats: `<name>` and, when the separator returns exits, `<name>_mainloss` (main estimate) and
        `<name>_aux{k}loss` (auxiliary estimate k), each unweighted.
        """
        stats: Dict[str, torch.Tensor] = {}
        total, others, trained_on = 0.0, {}, 0
        for wrapper in self.loss_wrappers:
            if self.training and getattr(wrapper.criterion, "only_for_test", False):
                continue  # a validation-only criterion
            with torch.no_grad() if wrapper.weight == 0 else contextlib.nullcontext():
                loss, wstats, others = wrapper(refs, main, others)
                aux_losses = [wrapper(refs, est, others)[0] for est in aux] if aux is not None else None
            if aux_losses is not None:
                name = wrapper.criterion.name
                stats[f"{name}_mainloss"] = loss.detach()
                stats.update({f"{name}_aux{k}loss": a.detach() for k, a in enumerate(aux_losses)})
                loss = (loss + sum(aux_losses)) / (len(aux_losses) + 1)
            stats.update(wstats)
            total = total + wrapper.weight * loss
            trained_on += wrapper.weight != 0
        if self.training and not trained_on:
            # ESPnet raises AttributeError here too
            raise AttributeError(
                "criterions: no criterion is left to train on (every criterion has only_for_test: true or weight 0); "
                "give at least one criterion with only_for_test: false and a non-zero weight"
            )
        return total, stats

    def collect_feats(self, speech_mix: torch.Tensor, speech_mix_lengths: torch.Tensor, **kwargs):
        """For the stats stage: the raw mixture is the feature."""
        return {"feats": speech_mix, "feats_lengths": self._lengths(speech_mix, speech_mix_lengths)}

    # ---------------------------------------------------------------- inference
    def separate(self, speech_mix: torch.Tensor, speech_mix_lengths: Optional[torch.Tensor] = None):
        """[B, N] -> J separated waveforms [B, N]: only the main estimate is decoded."""
        lengths = self._lengths(speech_mix, speech_mix_lengths)
        mix, std = self._normalize(speech_mix)
        feats, flens = self.encoder(mix, lengths)
        spec, _, _ = self.separator(feats, flens, {"return_aux": False})
        return self._decode(spec, lengths, std)

    def iter_refinements(
        self, speech_mix: torch.Tensor, speech_mix_lengths: Optional[torch.Tensor] = None, max_m_re: int = 8
    ) -> Iterator[Tuple[int, List[torch.Tensor]]]:
        """Yield (m, J waveforms [B, N]) after each refinement repeat m = 1 .. max_m_re (TISDiSS only)."""
        if not isinstance(self.separator, AbsRefiningSeparator):
            raise ValueError(f"separator {type(self.separator).__name__} has no refinement blocks (M_re)")
        lengths = self._lengths(speech_mix, speech_mix_lengths)
        mix, std = self._normalize(speech_mix)
        feats, _ = self.encoder(mix, lengths)
        for m, spec in self.separator.iter_refinements(feats, max_m_re):
            yield m, self._decode(spec, lengths, std)

    def set_m_re(self, m_re: int):
        """Use `m_re` refinement repeats (TISDiSS's M_re) from now on; weights are untouched."""
        if not isinstance(self.separator, AbsRefiningSeparator):
            raise ValueError(f"separator {type(self.separator).__name__} has no refinement blocks (M_re)")
        self.separator.set_m_re(m_re)

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _lengths(speech_mix: torch.Tensor, lengths: Optional[torch.Tensor]) -> torch.Tensor:
        if lengths is None:
            return torch.full((speech_mix.shape[0],), speech_mix.shape[-1], dtype=torch.long, device=speech_mix.device)
        return lengths

    def _normalize(self, speech_mix: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Divide [B, N] by its unbiased std over time (clamped so that silence stays finite).

        normalize_variance and normalize_variance_per_ch both divide here: with one channel, the std of the
        whole signal and the std of its channel are the same.
        """
        if not (self.normalize_variance or self.normalize_variance_per_ch):
            return speech_mix, None
        std = torch.std(speech_mix, dim=-1, keepdim=True).clamp(min=1e-8)
        return speech_mix / std, std

    def _decode(self, spec: List[torch.Tensor], lengths: torch.Tensor, std: Optional[torch.Tensor]):
        """J complex [B, T, F] -> J waveforms [B, N], scaled back by the mixture std."""
        wavs = [self.decoder(s, lengths)[0] for s in spec]
        return wavs if std is None else [w * std for w in wavs]
