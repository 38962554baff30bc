"""The swap capability: ``classical`` (CPU: dlib + OpenCV) and ``neural`` (torch) engines, one interface."""
