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

# a run that diverges within its first steps: SGD at lr 1e6 on a regression task
DIVERGING = (
    *TINY,
    "model=mlp",
    "optim=sgd",
    "optim.lr=1e6",
    "optim.momentum=0.0",
    "dataset.task=regression",
    "trainer.max_steps=500",
    "trainer.eval_every=200",
)
