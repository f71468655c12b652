"""The shared parts the handlers are built from: faces found (``detect``, ``detection``) and
obscured (``obscure``), file formats (``formats``, ``icc``, ``isobmff``, ``palette``), pictures
decoded (``picture``) and what they give away (``metadata``), copies written whole or not at all
(``atomic``), and what a handler gives back (``results``)."""
