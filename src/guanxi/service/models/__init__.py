"""service models; each module owns one part of the domain and is imported here so Django finds it."""

from guanxi.service.models.agent_tools import ReplyTemplate  # noqa: F401
from guanxi.service.models.analysis import (  # noqa: F401
    SatisfactionRollup,
    TicketMonthRollup,
    TicketRollup,
    TicketTally,
)
from guanxi.service.models.assignment import AgentAvailability, AssignmentRule  # noqa: F401
from guanxi.service.models.config import Holiday, SlaTarget, TicketCause, TicketSubType, TicketType  # noqa: F401
from guanxi.service.models.correspondence import ComplaintHandling, MessageAttachment, TicketMessage  # noqa: F401
from guanxi.service.models.feedback import (  # noqa: F401
    ContactChannel,
    ReturnVisit,
    ReturnVisitAttempt,
    ReturnVisitRule,
    Survey,
    SurveyInvitation,
)
from guanxi.service.models.hours import BusinessHours  # noqa: F401
from guanxi.service.models.knowledge import (  # noqa: F401
    Article,
    ArticleCategory,
    ArticleRevision,
    ArticleTag,
    ArticleVote,
    TicketArticle,
)
from guanxi.service.models.reschedule import RescheduleJob  # noqa: F401
from guanxi.service.models.sms import SmsMessage, SmsReply  # noqa: F401
from guanxi.service.models.ticket import Escalation, Handover, Ticket, TicketEvent  # noqa: F401
