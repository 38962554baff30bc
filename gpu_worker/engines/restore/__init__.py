"""The restore capability: ``classical`` (CPU: dlib + OpenCV) and ``neural`` (torch) engines, one interface."""
