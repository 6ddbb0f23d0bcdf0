"""Free-text answers: codebooks and automatic tags, the meaningful-answer rule, manual coding,
agreement between coders, the keywords table, and redaction of personal data.

Nothing here reads or writes files except the loaders (`load_codebooks`, `load_redaction_list`,
`read_coding`); everything else is a pure function of frames.
"""

from pipeline.text.agreement import agreement, cohens_kappa, krippendorff_alpha_nominal
from pipeline.text.codebook import Codebook, Tag, explain, load as load_codebook, load_all as load_codebooks, tag
from pipeline.text.coders import apply_coding, check_coding, read_coding
from pipeline.text.keywords import (
    Coded, agreement_table, as_multiselect, code_all, code_question, decisions_table, keywords, keywords_table,
)
from pipeline.text.meaningful import MeaningfulCounts, MeaningfulRule, classify, count, is_meaningful
from pipeline.text.redact import KINDS, RedactionList, load_list as load_redaction_list, redact, redact_answers

__all__ = [
    "Codebook", "Coded", "KINDS", "MeaningfulCounts", "MeaningfulRule", "RedactionList", "Tag",
    "agreement", "agreement_table", "apply_coding", "as_multiselect", "check_coding", "classify", "code_all",
    "code_question", "cohens_kappa", "count", "decisions_table", "explain", "is_meaningful", "keywords",
    "keywords_table", "krippendorff_alpha_nominal", "load_codebook", "load_codebooks", "load_redaction_list",
    "read_coding", "redact", "redact_answers", "tag",
]
