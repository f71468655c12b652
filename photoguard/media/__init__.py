"""The handlers: one for each kind of file the pipeline hands them (``still``, ``sequence``,
``video``), and what the handlers of photos share (``copies``, ``frames``)."""
