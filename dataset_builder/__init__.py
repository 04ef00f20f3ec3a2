"""MedQ-Deg dataset builder: degradations, clean sources, the datasets builder, export."""
