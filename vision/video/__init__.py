"""Pure video analytics for perimeter and patrol cameras.

Pieces (each its own module, composed by :mod:`vision.video.analyzer`):

- :mod:`~vision.video.lighting`: low-light detection/enhancement, photometric gain estimation;
- :mod:`~vision.video.egomotion`: frame-to-frame camera motion (2x3 affine) for moving cameras;
- :mod:`~vision.video.background`: gain-compensated running-Gaussian background model that can be
  warped by ego-motion and frozen under tracked objects; :mod:`~vision.video.ghosts` tells
  ghosts (the background's own content) from real objects;
- :mod:`~vision.video.blobs`, :mod:`~vision.video.hog`: motion blobs -> boxes, HOG person check;
- :mod:`~vision.video.tracker`: ByteTrack-style multi-object tracker with stable ids;
- :mod:`~vision.video.zones`, :mod:`~vision.video.events`, :mod:`~vision.video.abandoned`: zones,
  tripwires, schedules, intrusion/tripwire/loitering/abandoned-object events;
- :mod:`~vision.video.ground`: image <-> ground-plane projection for geo-tagging robot events.

Conventions: frames are ``uint8`` BGR ``[H, W, 3]`` (OpenCV order); boxes are pixel ``xyxy``
``float32`` with x right, y down; times are seconds (``float``) from the start of the stream.
"""
