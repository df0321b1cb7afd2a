"""For plugin authors' own tests: `await check_backend(MyAnimator)` runs a backend class through the
contract every Memoria backend keeps (see docs/plugins.md). No pytest needed; a broken rule raises
`ContractViolation` naming it."""

from server.testing.contract import ContractReport, ContractViolation, check_backend
from server.testing.samples import PERSONA_SHEET, sample_face, speech_like

__all__ = ["PERSONA_SHEET", "ContractReport", "ContractViolation", "check_backend", "sample_face", "speech_like"]
