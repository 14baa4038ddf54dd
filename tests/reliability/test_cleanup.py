"""A multi-process test leaves nothing behind: no process of its groups, no listening port."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import detached_children
from tests.reliability.rig import (
    LeftBehind,
    Rig,
    free_port,
    group_alive,
    listening,
    proxy_argv,
    running_stack,
)
from yearwheel.processes import ProcessGroup
from yearwheel.stack import plan_stack

pytestmark = pytest.mark.reliability


class Boom(Exception):
    pass


async def test_a_stack_is_gone_after_its_test_even_when_the_test_fails(tmp_path: Path) -> None:
    seen: list[Rig] = []
    with pytest.raises(Boom):
        async with running_stack(tmp_path, workers=("worker-a", "worker-b")) as rig:
            seen.append(rig)
            assert listening(rig.stack.temporal_port) and listening(rig.stack.api_port)
            await rig.akill("worker-a")  # a process that died on its own is fine too
            raise Boom
    (rig,) = seen
    assert len(rig.pgids) == 4
    assert not any(group_alive(pgid) for pgid in rig.pgids)
    assert not listening(rig.stack.temporal_port) and not listening(rig.stack.api_port)
    assert rig.group.procs == {}


def test_the_check_names_a_process_that_outlived_its_group(tmp_path: Path) -> None:
    port = free_port()
    rig = Rig(stack=plan_stack(tmp_path / "state", temporal_port=None, api_port=None, ui=False),
              group=ProcessGroup(tmp_path / "logs"))
    rig.start_process("proxy", proxy_argv(listen=port, upstream="127.0.0.1:9"), port=port)
    lost = rig.group.procs.pop("proxy")  # lost track of: stopping the group will not stop it
    named = rf"left: \[{lost.pid}\]; ports still listening: \[{port}\]"
    with pytest.raises(LeftBehind, match=named):
        rig.close(grace=1.0)
    lost.wait(timeout=10)  # the check killed it; reap it
    assert not group_alive(lost.pid) and not listening(port)


def test_the_session_check_sees_what_a_process_group_starts(tmp_path: Path) -> None:
    with ProcessGroup(tmp_path) as group:
        started = group.start("sleeper", ["sleep", "60"])
        assert started.pid in detached_children()
    assert started.pid not in detached_children()
