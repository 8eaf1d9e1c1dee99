"""Tortoise models, one module per aggregate. Tortoise discovers every model imported here."""

from models.abo import Abo, AboStatus
from models.antrag import Anrede, Antrag, AntragSource, AntragStatus, Ticketart
from models.audit import AuditEvent
from models.billing import BillingLine, BillingRun, LineKind, SubsidyChange, TariffBlock
from models.contract import Contract, ContractStatus, Produktangebot
from models.customer import Customer
from models.employee import Employee
from models.invitation import Invitation, InvitationPurpose
from models.invoice import Invoice, InvoiceCounter
from models.kundencode import Kundencode
from models.login_throttle import LoginThrottle
from models.recovery_code import RecoveryCode
from models.sepa import SepaMandate
from models.session import Session
from models.upload import Upload, UploadChange, UploadMode, UploadResult
from models.user import PortalUser, Role

__all__ = [
    'Abo',
    'AboStatus',
    'Anrede',
    'Antrag',
    'AntragSource',
    'AntragStatus',
    'AuditEvent',
    'BillingLine',
    'BillingRun',
    'Contract',
    'ContractStatus',
    'Customer',
    'Employee',
    'Invitation',
    'InvitationPurpose',
    'Invoice',
    'InvoiceCounter',
    'Kundencode',
    'LineKind',
    'LoginThrottle',
    'PortalUser',
    'Produktangebot',
    'RecoveryCode',
    'Role',
    'SepaMandate',
    'Session',
    'SubsidyChange',
    'TariffBlock',
    'Ticketart',
    'Upload',
    'UploadChange',
    'UploadMode',
    'UploadResult',
]
