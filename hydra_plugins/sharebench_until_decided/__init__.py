"""sharebench's Hydra sweeper `until_decided`: add seeds in rounds until every pair has a verdict
(hydra/sweeper=until_decided; sharebench/compare/until_decided.py). Hydra finds plugins in the
`hydra_plugins` namespace package, so the class lives here; its work is done in sharebench."""
