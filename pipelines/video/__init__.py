"""Perimeter and patrol video: sources (files, RTSP/HTTP, robot feeds with pose sidecars), one
Ray actor per stream with back-pressure and reconnect, evidence/finding/alarm sinks, the GeoJSON
port map, and the evaluation against hand-annotated clips. The pure CV is in ``vision.video``.
"""
