"""The makeup capability: ``classical`` (CPU: dlib + OpenCV) and ``neural`` (torch) engines, one interface."""
