"""Protocol templates kept in the process, one per content digest.

Every protocol-copy submission needs its election's template: its lines and control relations,
several kilobytes of JSON. Reading and decoding them per submission cost PostgreSQL more than
the rest of the submission's first query, and the app as much again; a template changes once in
an election's life, if ever. So the submission reads the template's id and digest only, and the
template itself comes from here. A changed template has a new digest, so it is read anew: the
process never serves a template the database no longer holds.

The instances handed out are shared between requests and threads: read them, never change them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from pollwatch.registry.models import ProtocolTemplate

KEPT = 16  # templates in use at once: one per running election, and few elections run at once

_kept: OrderedDict[str, ProtocolTemplate] = OrderedDict()
_lock = threading.Lock()


def current_template(template_id: int, digest: str) -> ProtocolTemplate:
    """Template ``template_id`` as it is when its digest is ``digest``.

    Read from the database when this process has not seen that digest yet; if the template
    changed in between, the row read is returned (it is what the database holds) and kept under
    its own digest.
    """
    with _lock:
        template = _kept.get(digest)
        if template is not None and template.pk == template_id:
            _kept.move_to_end(digest)
            return template
    template = ProtocolTemplate.objects.get(pk=template_id)
    if not template.digest:  # a row written around save(), by hand: nothing to key it by
        return template
    with _lock:
        _kept[template.digest] = template
        _kept.move_to_end(template.digest)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return template
