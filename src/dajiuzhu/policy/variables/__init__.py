"""OpenFisca variables, one module per benefit; helpers in ``common``."""
