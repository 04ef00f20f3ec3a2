"""MedQ-Deg Gradio Space: degrade images, ask models at L0/L1/L2, leaderboard, calibration."""
