from backoffice.jobs import register
from webhooks import services


@register("webhook_deliveries_stranded", every_seconds=300, description="送信が止まったWebhook配信を再投入")
def requeue_stranded_deliveries() -> dict:
    return {"requeued": services.requeue_stranded()}
