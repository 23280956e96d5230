"""What results sharing hears: a certificate issued (queue its result), a delivery out of runs."""

from lms.core.signals import background_work_failed, certificate_issued
from lms.sharing import operations


@certificate_issued.connect
def _share_result(certificate, **_details) -> None:
    operations.queue_delivery(certificate)


@background_work_failed.connect
def _give_up(_sender, task, kwargs, error, **_details) -> None:
    if task == "sharing.deliver":
        operations.mark_failed(kwargs.get("delivery_id", ""), error)
