"""The shipped config, composed exactly as `sharebench run` would, without running Hydra's job."""

from sharebench.configs import compose


def make_cfg(*overrides: str):
    return compose(overrides)


# a dataset small enough for a run in a second: 200 examples of 1×8×8, four batches an epoch
TINY = (
    "dataset=synthetic",
    "dataset.shape=[1,8,8]",
    "dataset.train_size=200",
    "dataset.val_size=50",
    "dataset.test_size=50",
    "trainer.batch_size=50",
    "trainer.progress=false",
)
