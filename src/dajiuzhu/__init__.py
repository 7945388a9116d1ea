"""常州市智慧大救助管理服务平台 — the Changzhou smart social-assistance platform."""

__version__ = "0.1.0"
