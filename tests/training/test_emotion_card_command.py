"""The model card names the one command that rebuilds its data and trains its model."""

from __future__ import annotations

from dataclasses import asdict, replace

from training.emotion.card import _reproduce
from training.emotion.dataset import DataConfig


def _card(config: DataConfig, train_seed: int) -> dict:
    return {"data": {"config": asdict(config)}, "training": {"seed": train_seed}}


def test_a_default_data_set_needs_only_its_seeds() -> None:
    assert _reproduce(_card(DataConfig(seed=0), 0)) == "python -m training.emotion --seed 0"
    assert _reproduce(_card(DataConfig(seed=0), 1)) == (
        "python -m training.emotion --seed 0 --train-seed 1"
    )


def test_every_data_option_off_its_default_is_on_the_command_line() -> None:
    config = replace(DataConfig(seed=2), extra_takes=8, track_share=0.5, onset_rate=False)
    assert _reproduce(_card(config, 2)) == (
        "python -m training.emotion --seed 2 --no-onset-rate --extra-takes 8 --track-share 0.5"
    )


def test_a_quick_data_set_is_rebuilt_with_quick() -> None:
    config = replace(DataConfig.quick(seed=3), extra_composer_pieces=2)
    assert _reproduce(_card(config, 3)) == (
        "python -m training.emotion --quick --seed 3 --extra-composer-pieces 2"
    )


def test_a_card_written_before_an_option_existed_reads_it_as_its_default() -> None:
    config = asdict(DataConfig(seed=0))
    del config["extra_takes"], config["track_share"]
    card = {"data": {"config": config}, "training": {"seed": 1}}
    assert _reproduce(card) == "python -m training.emotion --seed 0 --train-seed 1"
