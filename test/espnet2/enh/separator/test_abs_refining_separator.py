import pytest
import torch

from espnet2.enh.decoder.stft_decoder import STFTDecoder
from espnet2.enh.encoder.stft_encoder import STFTEncoder
from espnet2.enh.espnet_model import ESPnetEnhancementModel
from espnet2.enh.separator.abs_refining_separator import AbsRefiningSeparator
from espnet2.enh.separator.tflocoformer_separator import TFLocoformerSeparator
from espnet2.enh.separator.tisdiss_separator import TISDiSSSeparator

BLOCK = dict(emb_dim=8, attention_dim=8, n_heads=2, num_groups=2, norm_type="rmsgroupnorm",
             ffn_type=["swiglu_conv1d", "swiglu_conv1d"], ffn_hidden_dim=[8, 8])  # fmt: skip


def test_tisdiss_refines_and_tflocoformer_does_not():
    tisdiss = TISDiSSSeparator(input_dim=9, reconstructor_repeat_times=4, **BLOCK)
    assert isinstance(tisdiss, AbsRefiningSeparator) and tisdiss.m_re == 4  # M_re = reconstructor_repeat_times
    tisdiss.set_m_re(2)
    assert tisdiss.m_re == 2
    assert not isinstance(TFLocoformerSeparator(input_dim=9, n_layers=1, **BLOCK), AbsRefiningSeparator)


def test_model_refuses_m_re_for_a_separator_without_refinement():
    stft = dict(n_fft=16, hop_length=8)
    separator = TFLocoformerSeparator(input_dim=9, n_layers=1, **BLOCK)
    model = ESPnetEnhancementModel(STFTEncoder(**stft), separator, STFTDecoder(**stft))
    with pytest.raises(ValueError, match="TFLocoformerSeparator has no refinement blocks"):
        model.set_m_re(2)
    with pytest.raises(ValueError, match="TFLocoformerSeparator has no refinement blocks"):
        next(model.iter_refinements(torch.randn(1, 64), max_m_re=2))


def test_an_implementation_must_provide_every_method():
    class Incomplete(AbsRefiningSeparator):
        num_spk = 2

        def forward(self, input, ilens, additional=None):
            return [input], ilens, {}

        def set_m_re(self, m_re):
            pass

    with pytest.raises(TypeError, match="iter_refinements"):
        Incomplete()
