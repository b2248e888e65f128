"""Learnability checks: problems a model certainly can learn, trained through the real trainer, where the reward must
rise (and, with the reward inverted, fall). `python -m recipe.rwml.learn_check` (`make learn-check`) runs them.

- `stage1`: verl's GRPO through `main_rwml` with the project's `SimToRealRewardManager`, on real ALFWorld refusal
  triplets ("Nothing happens." for a stale command), from the tiny model taught to answer in the format with one of
  three next states; the reward of the true one must rise, and fall under the inverted reward
  (`reward.py`, the check's own manager: a wrong advantage sign, a misaligned reward or a stale weight sync fails it).
"""
