"""Internal quality assurance: sampling strategies and plans, samples of assessors' decisions with
their checks, outcomes and actions, countersigned samples, standardisation, and the sampling trail
an external quality assurer inspects."""
