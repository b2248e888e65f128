"""Offline calibration of the sim-to-real reward and its test corpora: where the documented taus come from.

Nothing here runs during training: `reward_score` is the reward at runtime and imports nothing from this package;
this package imports `reward_score` (and `data_prep`, `envs`) to measure it. The taus it recommends are copied by
hand into `reward_score/settings.py` (`documented_tau`); the runs' files are kept in `results/`.

The modules:
    calibrate               tau for an embedder on ALFWorld (binary and facts modes), checked on other games
    alfworld_candidates     the ALFWorld candidates per kind (positives, negatives) and their samples files
    alfworld_pairs          real ALFWorld transition pairs (the real outcome vs another action's)
    alfworld_rewrites       meaning-keeping and fact-changing rewrites of an ALFWorld state
    calibrate_tau2          tau for tau2 user replies (mixed mode)
    calibrate_tau2_facts    tau2's facts mode vs mixed on tool responses and user replies
    tau2_user_replies       tau2 user replies made by rules from the tasks' user scenarios, and their rewrites
    separation              per-kind shares right and balanced accuracy over a tau grid (pooled by samples or kinds)
    plots                   the calibrations' PNGs
    cli_options             the options every calibration CLI shares
    alfworld_families       the paraphrase-family corpus CLI: generate, score, per-family table
    family_framework        what a paraphrase family is: a real state's sentences and how a family rewords them
    alfworld_families_dev   the dev families; alfworld_families_heldout*: the held-out sets (not for development)
    alfworld_attacks        the adversarial corpus: false predictions that must score 0
    alfworld_reader_tables  the README's reader tables, printed from the result files
"""
