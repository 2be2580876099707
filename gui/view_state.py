"""The view state a saved review records and restores: cursor, seed, display options.

The display options come from the controller's model
(:class:`core.review_state.DisplayOptions`), never from widgets.

Plain functions over a MainWindow; the values are JSON-ready so
:mod:`core.io.review_file` can store them.
"""

from __future__ import annotations

__all__ = ["apply_view", "view_state"]


def view_state(window, patient_label: str | None = None) -> dict:
    """Return the view as JSON-ready values (cursor, seed, display settings)."""
    w = window
    display = w.controller.display
    return {
        "cursor_mm": [float(v) for v in w.cursor.position],
        "seed": _seed_state(window),
        "map_title": w.slices.data.title if w.slices.data is not None else None,
        # display options as percent, as format version 1 stores them
        "colormap": display.colormap, "diverging": display.diverging,
        "threshold": round(display.threshold * 100),
        "opacity": round(display.opacity * 100), "network_blocks": display.network_blocks,
        "significant_only": display.significant_only, "verdict": display.verdict,
        "delta_units": display.delta_units,
        "tab": w.tabs.currentIndex(), "patient_label": patient_label,
    }


def apply_view(window, view: dict) -> None:
    """Restore a view saved by :func:`view_state` (the seed map once seeds are ready)."""
    w = window
    changes: dict = {"network_blocks": bool(view.get("network_blocks", False)),
                     "significant_only": bool(view.get("significant_only", False))}
    from gui.window_pages import COLORMAPS, DIVERGING_MAPS

    for key, known in (("colormap", COLORMAPS), ("diverging", [n for _, n in DIVERGING_MAPS])):
        if view.get(key) in known:  # a colour map this version does not have is ignored
            changes[key] = str(view[key])
    for key in ("threshold", "opacity"):
        if view.get(key) is not None:
            changes[key] = min(max(float(view[key]) / 100, 0.0), 1.0)
    for key, allowed in (("verdict", ("within", "reference")),
                         ("delta_units", ("z", "reference_sd"))):
        if view.get(key) in allowed:
            changes[key] = view[key]
    w.controller.set_display(**changes)
    if view.get("tab") is not None:
        w.tabs.setCurrentIndex(int(view["tab"]))
    if view.get("cursor_mm") is not None:
        w.cursor.set_position(view["cursor_mm"])
    if view.get("seed"):
        _restore_seed(window, view["seed"], view.get("cursor_mm"))


def _seed_state(window) -> dict | None:
    panel = getattr(window, "seed_panel", None)
    if panel is None:
        return None
    current = getattr(panel.seeds, "current", None)
    xyz = getattr(current, "xyz_mm", None)
    return {"overlay": panel.overlay.currentText(), "radius_mm": panel.radius.value(),
            "full_gbc": panel.full_gbc.isChecked(),
            "xyz_mm": None if xyz is None else [float(v) for v in xyz]}


def _restore_seed(window, seed: dict, cursor_mm) -> None:
    """Recompute the saved seed or GBC map once the seed controller is ready."""
    from gui import strings

    panel = getattr(window, "seed_panel", None)
    if panel is None:
        return

    def restore() -> None:
        panel.radius.setValue(float(seed.get("radius_mm") or panel.radius.value()))
        panel.full_gbc.setChecked(bool(seed.get("full_gbc", False)))
        overlay = seed.get("overlay")
        if overlay == strings.OVERLAY_SEED and seed.get("xyz_mm") is not None:
            panel.seed_at(seed["xyz_mm"])
            if cursor_mm is not None:
                window.cursor.set_position(cursor_mm)
        elif overlay and overlay != strings.OVERLAY_STRENGTH:
            panel.overlay.setCurrentText(overlay)

    if panel.seeds.ready:
        restore()
        return

    def on_state(state: str) -> None:
        if state in ("ready", "idle", "no_voxels"):
            panel.seeds.state_changed.disconnect(on_state)
            if state == "ready":
                restore()

    panel.seeds.state_changed.connect(on_state)
