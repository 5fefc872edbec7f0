"""The check every silence change passes (silences.services calls it before anything is
sent): a scoped person changes only silences inside their scopes. A refusal is an audit row,
and a SilenceActionError with reason "out_of_scope" (the API answers 403)."""

from __future__ import annotations

from alertui.scopes.access import access_for
from alertui.silences import recorder

REASON = "out_of_scope"


def check(actor, action: str, cluster: str, *, silence_id="", current=None, wanted=None):
    """Refuse unless the silence as it is now (`current`, Alertmanager's) and as it would be
    (`wanted`: what is sent) are each inside one of the actor's scopes in `cluster`."""
    access = access_for(actor.user)
    if not access.restricted:
        return  # not restricted by scopes: the roles decide, as without scopes
    for silence in (current, wanted):
        if silence is not None and not access.may_change(silence.matchers, cluster):
            message = access.refusal(silence.matchers, cluster)
            if current is not None and silence is wanted:
                # An edit: the audit shows what was asked, beside the silence as it was.
                recorder.refuse_request(
                    actor,
                    action,
                    wanted,
                    message,
                    silence_id=silence_id,
                    before=recorder.snapshot(current),
                    cluster=cluster,
                )
            elif current is not None:
                recorder.refuse(
                    actor, action, silence_id, message, current=current, cluster=cluster
                )
            else:
                recorder.refuse_request(actor, action, wanted, message, cluster=cluster)
            from alertui.silences.services import SilenceActionError

            raise SilenceActionError(message, REASON)
