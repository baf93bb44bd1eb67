"""Make the kernel-atlas figures of docs/guide/kernel-atlas.md: train two small sweeps, plot them,
copy the atlases to docs/images/.

    python scripts/kernel_atlas_figures.py            # train (skipped where a sweep finished) and plot
    python scripts/kernel_atlas_figures.py --plot     # plot the finished sweeps again only

1. MNIST-1D, the sharing spectrum's protocol (experiment=sharing_spectrum: the MNIST-1D paper's CNN,
   Adam 1e-2) at four points — conv, soft-tied λ=1e-2, dynamic sharing every 100 steps, locally
   connected — for STEPS_1D (1,550) steps instead of 6,000, one seed, weights kept at the start and the end.
2. Real digits (dataset=mnist5k, 1×28×28): the seed's SharedCNN (model=shared_cnn) and its locally
   connected twin (model=local_cnn), one seed, STEPS_2D (300) steps (the 2-D locally connected net is slow
   on a CPU).
Runs go to results/kernel_atlas/ (git-ignored), one thread each; the figures to docs/images/.
"""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "results" / "kernel_atlas"
IMAGES = REPO / "docs" / "images"
# The protocol's 6,000 steps cost too much on the shared 2-core machine. 1,550: dynamic_100 last set its
# kernels to their mean at step 1,500, so its atlas shows how far they drift apart in 50 free steps.
STEPS_1D = 1550
STEPS_2D = 300  # the 2-D locally connected net took ~6 s a step on the shared 2-core machine
COMMON = ["seed=0", "trainer.save_initial_model=true", "trainer.threads=1", "trainer.progress=false"]
SWEEPS = {
    "mnist1d_spectrum": [
        "experiment=sharing_spectrum",
        "spectrum=conv,soft_tied_1e-2,dynamic_100,local",
        f"trainer.max_steps={STEPS_1D}",
        *COMMON,
    ],
    "mnist5k_local_cnn": [
        "dataset=mnist5k",
        "model=shared_cnn,local_cnn",
        f"trainer.max_steps={STEPS_2D}",
        "trainer.eval_every=100",
        *COMMON,
    ],
}
# the figures the page shows: (sweep, file `sharebench plot` writes, name under docs/images/)
FIGURES = [
    ("mnist1d_spectrum", "kernel_atlas_local.png", "kernel_atlas_mnist1d_local.png"),
    ("mnist1d_spectrum", "kernel_atlas_soft_tied_1e-2.png", "kernel_atlas_mnist1d_soft_tied.png"),
    ("mnist1d_spectrum", "kernel_atlas_dynamic_100.png", "kernel_atlas_mnist1d_dynamic_100.png"),
    ("mnist1d_spectrum", "kernel_atlas_start_end_dynamic_100.png", "kernel_atlas_mnist1d_dynamic_100_start_end.png"),
    ("mnist5k_local_cnn", "kernel_atlas_local_cnn.png", "kernel_atlas_mnist5k_local_cnn.png"),
    ("mnist5k_local_cnn", "kernel_atlas_start_end_local_cnn.png", "kernel_atlas_mnist5k_local_cnn_start_end.png"),
]


def sharebench(*args: str) -> None:
    exe = str(Path(sys.executable).with_name("sharebench"))
    print("+ sharebench", " ".join(args), flush=True)
    subprocess.run([exe, *args], cwd=REPO, check=True)


def train(name: str, overrides: list[str]) -> None:
    sweep = OUT / name
    if (sweep / "comparison" / "comparison.csv").exists():  # written when the whole sweep finished
        print(f"{sweep}: finished before, not trained again", flush=True)
        return
    sharebench("run", "-m", *overrides, f"hydra.sweep.dir={sweep}")


def main() -> None:
    if "--plot" not in sys.argv:
        for name, overrides in SWEEPS.items():
            train(name, overrides)
    for name in SWEEPS:
        sharebench("plot", str(OUT / name))
    IMAGES.mkdir(parents=True, exist_ok=True)
    for sweep, made, shown in FIGURES:
        shutil.copyfile(OUT / sweep / "comparison" / made, IMAGES / shown)
        print(f"docs/images/{shown} ← {OUT.relative_to(REPO)}/{sweep}/comparison/{made}")


if __name__ == "__main__":
    main()
