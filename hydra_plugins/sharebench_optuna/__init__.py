"""sharebench's Hydra sweeper `optuna`: an Optuna search on Optuna's ask/tell (hydra/sweeper=optuna,
experiment=tune_lr), with hydra-optuna-sweeper's config keys. Hydra finds plugins in the
`hydra_plugins` namespace package, so it lives here."""
