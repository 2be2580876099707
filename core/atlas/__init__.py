"""Atlases (bundled Schaefer, nilearn package data, AAL3, user label images) and MNI templates."""
