"""PyQt6 review window for single-patient pre/post connectivity (views, controller, app)."""
