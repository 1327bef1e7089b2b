"""The interface of separators that refine their estimates with M_re repeats of shared-weight blocks."""

from abc import abstractmethod
from typing import Iterator, List, Tuple

import torch

from espnet2.enh.separator.abs_separator import AbsSeparator


class AbsRefiningSeparator(AbsSeparator):
    """A separator with a refinement stage whose repeat count M_re can change after training (TISDiSS).

    The weights do not depend on M_re: the same model runs with any M_re >= 1, and the estimates after each
    repeat can be read out one by one (adaptive M_re at inference).
    """

    @property
    @abstractmethod
    def m_re(self) -> int:
        """M_re: the number of refinement repeats `forward` runs."""

    @abstractmethod
    def set_m_re(self, m_re: int):
        """Run `m_re` (an integer >= 1) refinement repeats from now on; no rebuild, same weights."""

    @abstractmethod
    def iter_refinements(self, input: torch.Tensor, max_m_re: int) -> Iterator[Tuple[int, List[torch.Tensor]]]:
        """input: complex [B, T, F] -> yield (m, num_spk complex [B, T, F]) after each repeat m = 1 .. max_m_re.

        The estimate yielded at m equals the main estimate of `forward` with M_re = m.
        """
