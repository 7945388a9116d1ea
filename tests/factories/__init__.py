"""Builders shared by the tests: users and clients (``accounts``), registry persons and
households (``registry``), department deliveries as files (``exchange``), the warnings' small
city (``city``), the household check's family (``verification``) and Mosquitto with the
deployment's settings (``broker``). Fixtures stay in the ``conftest.py`` beside the tests
that use them."""
