"""MedQ-Deg evaluation harness: prompts, model backends, answer extraction, runner, reports."""
