"""The records of internal quality assurance: sampling plans (with their history), samples of an
assessor's decisions and the actions they raise.

Append-only like assessment's records. A plan is changed by a revision that adds or removes
planned samples, never by editing one; a sample is recorded once, whole; an action's life is the
entries below it (the assessor's responses, the IQA closing or reopening it). The rule "an IQA
never samples a decision they made" is held by the database as well as the services: a sampled
decision row repeats the decision's assessor and the sample's IQA, both tied to their rows by
foreign keys, and a check keeps them apart."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.accounts.models import Enrolment, User
from portfolio.catalogue.models import Unit
from portfolio.core.db import Base, UTCDateTime, utcnow

STAGES = {"interim": "Interim", "summative": "Summative"}
SAMPLE_OUTCOMES = {"agree": "Agree", "agree_with_feedback": "Agree with feedback",
                   "action_required": "Action required"}
#: The checks of every sample, in the order the awarding bodies name them.
CHECKS = {"valid": "Valid", "authentic": "Authentic", "current": "Current",
          "sufficient": "Sufficient", "reliable": "Reliable"}
ACTION_ENTRY_KINDS = {"response": "Response", "closed": "Closed", "reopened": "Reopened"}


class SamplingPlan(Base):
    """What one IQA plans to sample of one assessor's work on one qualification over a cycle."""

    __tablename__ = "sampling_plans"
    __table_args__ = (
        sa.UniqueConstraint("iqa_id", "assessor_id", "qualification_id", "cycle_starts_on"),
        sa.CheckConstraint("iqa_id <> assessor_id", name="iqa_is_not_assessor"),
        sa.CheckConstraint("cycle_ends_on > cycle_starts_on", name="cycle_in_order"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The centre.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"), index=True)
    #: The internal quality assurer who samples.
    iqa_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The assessor whose decisions are sampled.
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The qualification (every version of it).
    qualification_id: Mapped[int] = mapped_column(sa.ForeignKey("qualifications.id"))
    #: First day of the sampling cycle.
    cycle_starts_on: Mapped[dt.date]
    #: Day after the last of the cycle.
    cycle_ends_on: Mapped[dt.date]
    #: Who made the plan.
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    iqa: Mapped[User] = relationship(foreign_keys=[iqa_id])
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id])

    def __repr__(self) -> str:
        return (f"<SamplingPlan {self.id} iqa={self.iqa_id} assessor={self.assessor_id} "
                f"qualification={self.qualification_id} from {self.cycle_starts_on}>")


class PlanRevision(Base):
    """One change to a plan (the generator's proposal accepted, or the IQA's edit): the planned
    samples it added and removed point at it, so the plan's state on any day can be read back."""

    __tablename__ = "plan_revisions"
    __table_args__ = (sa.Index("ix_plan_revisions_plan_id_id", "plan_id", "id"),)

    #: Primary key; a plan's revisions read in this order.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The plan changed.
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("sampling_plans.id"))
    #: Who changed it.
    made_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Why, in the IQA's words (the generator's proposal says so).
    note: Mapped[str] = mapped_column(sa.Text, default="")

    made_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PlanRevision {self.id} plan={self.plan_id}>"


class PlannedSample(Base):
    """One cell of a plan's learner x unit grid: sample this unit of this learner at this stage by
    this day. In the plan from the revision that added it until one removes it."""

    __tablename__ = "planned_samples"
    __table_args__ = (
        sa.Index("ix_planned_samples_plan_id", "plan_id"),
        sa.Index("ix_planned_samples_enrolment_id_unit_id", "enrolment_id", "unit_id"),
        sa.CheckConstraint("stage IN ('interim', 'summative')", name="known_stage"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The plan.
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("sampling_plans.id"))
    #: The learner's enrolment.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: The unit.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    #: ``interim`` (work in progress) or ``summative`` (a signed-off unit).
    stage: Mapped[str] = mapped_column(sa.String(20))
    #: The day it is due.
    due_on: Mapped[dt.date]
    #: The revision that put it in the plan.
    added_in_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_revisions.id"))
    #: The revision that took it out; None while it is planned.
    removed_in_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plan_revisions.id"))

    enrolment: Mapped[Enrolment] = relationship()
    unit: Mapped[Unit] = relationship()

    @property
    def stage_label(self) -> str:
        return STAGES[self.stage]

    def __repr__(self) -> str:
        return (f"<PlannedSample {self.id} plan={self.plan_id} enrolment={self.enrolment_id} "
                f"unit={self.unit_id} {self.stage} due {self.due_on}>")


class Sample(Base):
    """An IQA's sample of an assessor's decisions on one unit of one learner, recorded whole:
    what was sampled (:class:`SampledDecision`, :class:`SampledItem`), the five checks, the
    outcome, the feedback to the assessor and the actions raised."""

    __tablename__ = "samples"
    __table_args__ = (
        # The target of the sampled decisions' (sample, IQA) foreign key.
        sa.UniqueConstraint("id", "iqa_id", name="uq_samples_id_iqa_id"),
        sa.Index("ix_samples_enrolment_id_unit_id", "enrolment_id", "unit_id"),
        sa.Index("ix_samples_centre_id_recorded_at", "centre_id", "recorded_at"),
        sa.Index("uq_samples_planned_sample_id", "planned_sample_id", unique=True,
                 sqlite_where=sa.text("planned_sample_id IS NOT NULL"),
                 postgresql_where=sa.text("planned_sample_id IS NOT NULL")),
        sa.CheckConstraint("stage IN ('interim', 'summative')", name="known_stage"),
        sa.CheckConstraint("outcome IN ('agree', 'agree_with_feedback', 'action_required')",
                           name="known_outcome"),
        sa.CheckConstraint("iqa_id <> assessor_id", name="iqa_is_not_assessor"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The centre.
    centre_id: Mapped[int] = mapped_column(sa.ForeignKey("centres.id"))
    #: The learner's enrolment.
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    #: The unit sampled.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    #: The qualification, repeated for the trail's per-qualification reports.
    qualification_id: Mapped[int] = mapped_column(sa.ForeignKey("qualifications.id"))
    #: The IQA who sampled.
    iqa_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The assessor whose decisions were sampled.
    assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: ``interim`` or ``summative``.
    stage: Mapped[str] = mapped_column(sa.String(20))
    #: The planned sample this carries out; None for an ad-hoc sample.
    planned_sample_id: Mapped[int | None] = mapped_column(sa.ForeignKey("planned_samples.id"))
    #: When it was recorded.
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``agree``, ``agree_with_feedback`` or ``action_required``.
    outcome: Mapped[str] = mapped_column(sa.String(30))
    #: Feedback to the assessor.
    feedback: Mapped[str] = mapped_column(sa.Text, default="")
    #: Made by an IQA working towards their qualification where it must be countersigned: it
    #: counts only once a qualified IQA countersigns it (:class:`SampleCountersignature`).
    needs_countersignature: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    enrolment: Mapped[Enrolment] = relationship()
    unit: Mapped[Unit] = relationship()
    iqa: Mapped[User] = relationship(foreign_keys=[iqa_id])
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id])
    checks: Mapped[list[SampleCheck]] = relationship(order_by="SampleCheck.id")
    actions: Mapped[list[SampleAction]] = relationship(order_by="SampleAction.id")

    @property
    def stage_label(self) -> str:
        return STAGES[self.stage]

    @property
    def outcome_label(self) -> str:
        return SAMPLE_OUTCOMES[self.outcome]

    def __repr__(self) -> str:
        return (f"<Sample {self.id} enrolment={self.enrolment_id} unit={self.unit_id} "
                f"{self.stage} {self.outcome}>")


class SampledDecision(Base):
    """A decision a sample looked at. Its assessor and the sample's IQA are repeated, each held to
    its row by a composite foreign key, so that the database refuses an IQA sampling their own
    decision."""

    __tablename__ = "sampled_decisions"
    __table_args__ = (
        sa.UniqueConstraint("sample_id", "decision_id"),
        sa.ForeignKeyConstraint(["decision_id", "decision_assessor_id"],
                                ["decisions.id", "decisions.assessor_id"],
                                name="fk_sampled_decisions_decision_assessor"),
        sa.ForeignKeyConstraint(["sample_id", "iqa_id"], ["samples.id", "samples.iqa_id"],
                                name="fk_sampled_decisions_sample_iqa"),
        sa.CheckConstraint("iqa_id <> decision_assessor_id", name="not_own_decision"),
        sa.Index("ix_sampled_decisions_decision_id", "decision_id"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sample.
    sample_id: Mapped[int]
    #: The decision sampled.
    decision_id: Mapped[int]
    #: The decision's assessor.
    decision_assessor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: The sample's IQA.
    iqa_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<SampledDecision sample={self.sample_id} decision={self.decision_id}>"


class SampledItem(Base):
    """An evidence item a sample looked at, with the SHA-256 of each of its files then."""

    __tablename__ = "sampled_items"
    __table_args__ = (sa.UniqueConstraint("sample_id", "item_id"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sample.
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"))
    #: The evidence item.
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_items.id"))
    #: SHA-256 of every file of the item when sampled.
    file_hashes: Mapped[list[str]] = mapped_column(sa.JSON)

    def __repr__(self) -> str:
        return f"<SampledItem sample={self.sample_id} item={self.item_id}>"


class SampleCheck(Base):
    """One of the five checks of a sample (valid, authentic, current, sufficient, reliable)."""

    __tablename__ = "sample_checks"
    __table_args__ = (
        sa.UniqueConstraint("sample_id", "check"),
        sa.CheckConstraint("\"check\" IN ('valid', 'authentic', 'current', 'sufficient', "
                           "'reliable')", name="known_check"),
    )

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sample.
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"))
    #: Which check.
    check: Mapped[str] = mapped_column(sa.String(20))
    #: Whether the evidence and decisions passed it.
    satisfied: Mapped[bool]
    #: The IQA's note.
    note: Mapped[str] = mapped_column(sa.Text, default="")

    @property
    def label(self) -> str:
        return CHECKS[self.check]

    def __repr__(self) -> str:
        return f"<SampleCheck sample={self.sample_id} {self.check} {self.satisfied}>"


class SampleAction(Base):
    """Something a sample asks someone to do by a day. Open until an entry closes it."""

    __tablename__ = "sample_actions"
    __table_args__ = (sa.Index("ix_sample_actions_sample_id", "sample_id"),)

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sample that raised it.
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"))
    #: Who must act (usually the assessor).
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: What to do.
    text: Mapped[str] = mapped_column(sa.Text)
    #: By when.
    due_on: Mapped[dt.date]
    #: When it was raised.
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Whether it is closed, kept equal to its latest entry's kind by the services so that open
    #: actions are found by index: the entries are the record, this is their summary.
    closed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    sample: Mapped[Sample] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship()
    entries: Mapped[list[ActionEntry]] = relationship(order_by="ActionEntry.id")

    def __repr__(self) -> str:
        return f"<SampleAction {self.id} sample={self.sample_id} due {self.due_on}>"


class ActionEntry(Base):
    """An action's history: the owner's response, the IQA closing or reopening it."""

    __tablename__ = "action_entries"
    __table_args__ = (
        sa.Index("ix_action_entries_action_id_id", "action_id", "id"),
        sa.CheckConstraint("kind IN ('response', 'closed', 'reopened')", name="known_kind"),
    )

    #: Primary key; an action's entries read in this order.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The action.
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("sample_actions.id"))
    #: ``response``, ``closed`` or ``reopened``.
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Who.
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: What they said.
    text: Mapped[str] = mapped_column(sa.Text, default="")

    by: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return ACTION_ENTRY_KINDS[self.kind]

    def __repr__(self) -> str:
        return f"<ActionEntry {self.id} action={self.action_id} {self.kind}>"


class SampleCountersignature(Base):
    """A qualified IQA countersigning a sample made by one working towards their qualification."""

    __tablename__ = "sample_countersignatures"

    #: Primary key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The sample; countersigned at most once.
    sample_id: Mapped[int] = mapped_column(sa.ForeignKey("samples.id"), unique=True)
    #: The qualified IQA.
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: When.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<SampleCountersignature sample={self.sample_id} by={self.by_id}>"


# Standardisation's records live in their own module (this one would pass 400 lines); imported
# here so that loading the quality models loads them all.
from portfolio.quality import standardisation_models  # noqa: E402, F401
