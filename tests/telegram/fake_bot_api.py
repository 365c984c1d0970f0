"""A fake Telegram Bot API server on loopback, so the real PTB Application runs unmodified.

It speaks the wire format the client really uses (form-encoded POSTs, JSON-text values),
holds `getUpdates` as a real long poll, validates what Telegram validates (HTML, button
data, message length) so formatting bugs fail here rather than in production, records
every request, and lets a test inject updates and faults.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Parameters whose value the client sends as JSON text; everything else stays a string.
JSON_FIELDS = frozenset(
    {
        "allow_sending_without_reply",
        "allowed_updates",
        "button",
        "cache_time",
        "caption_entities",
        "chat_id",
        "commands",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "entities",
        "from_chat_id",
        "is_personal",
        "limit",
        "link_preview_options",
        "max_connections",
        "message_id",
        "message_thread_id",
        "offset",
        "protect_content",
        "reply_markup",
        "reply_parameters",
        "reply_to_message_id",
        "results",
        "scope",
        "show_alert",
        "timeout",
        "user_id",
    }
)

# Tags Telegram accepts in HTML parse mode.
ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    }
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_BAD_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_VOTE_ROW = re.compile(r"^(fb:[+-]:[a-z]{2}:[a-z0-9_]{1,40}):\d+$")
MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA = 64


def utf16_len(text: str) -> int:
    """Telegram measures lengths and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse this HTML text, or None if it would accept it."""
    stack: list[str] = []
    plain: list[str] = []
    pos = 0
    for match in _TAG.finditer(text):
        plain.append(text[pos : match.start()])
        pos = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in ALLOWED_TAGS:
            return f'Unsupported start tag "{name}"'
        if closing:
            if not stack or stack[-1] != name:
                return f'Unmatched end tag "{name}"'
            stack.pop()
        else:
            stack.append(name)
    plain.append(text[pos:])
    if stack:
        return f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    visible = "".join(plain)
    if "<" in visible or ">" in visible:
        return "Unexpected < or > outside a tag"
    if _BAD_AMP.search(visible):
        return "Unsupported HTML entity"
    unescaped = (visible.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')).replace(
        "&amp;", "&"
    )
    if not unescaped.strip():
        return "message text is empty"
    if utf16_len(unescaped) > MAX_MESSAGE_LENGTH:
        return "message is too long"
    return None


def markup_problem(markup: Any) -> str | None:
    """Why Telegram would refuse this reply_markup, or None."""
    if markup is None:
        return None
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            if not str(button.get("text", "")).strip():
                return "BUTTON_TEXT_EMPTY"
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                return "BUTTON_DATA_INVALID"
    return None


class ApiError(Exception):
    """An error answer, in the Bot API's own shape."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram sends with such an error."""
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            payload["parameters"] = {"retry_after": self.retry_after}
        return payload


@dataclass(frozen=True)
class Call:
    """One request the bot made, with its decoded parameters and what we answered."""

    method: str
    params: dict[str, Any]
    status: int
    at: float
    result: Any = None

    @property
    def text(self) -> str:
        """The message text, for sendMessage/editMessageText."""
        return str(self.params.get("text", ""))

    @property
    def message(self) -> dict[str, Any]:
        """The Message the server answered with (to press its buttons, or reply to it)."""
        if not isinstance(self.result, dict):
            raise AssertionError(f"{self.method} returned no message: {self.result!r}")
        return self.result

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """The inline keyboard rows, or []."""
        markup = self.params.get("reply_markup")
        if isinstance(markup, dict):
            rows = markup.get("inline_keyboard", [])
            return rows if isinstance(rows, list) else []
        return []

    @property
    def callback_data(self) -> list[str]:
        """Every button's callback data, in order."""
        return [
            str(b["callback_data"]) for row in self.buttons for b in row if "callback_data" in b
        ]

    @property
    def actions(self) -> list[str]:
        """`callback_data` with the question log's row id taken off the 👍/👎 buttons."""
        return [_VOTE_ROW.sub(r"\1", data) for data in self.callback_data]


@dataclass
class Fault:
    """An error (or a delay) to answer instead of the real result, `times` times."""

    method: str
    status: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    times: int = 1
    match: Callable[[dict[str, Any]], bool] | None = None
    delay: float = 0.0


@dataclass
class Chaos:
    """Faults on a random share of requests: server errors, flood control, slow answers.

    Seeded, so the share is stable from run to run (which request gets which fault depends on
    timing). A slow answer is *done* (the message is sent) but answered after `slow_by`
    seconds, past the client's timeout: the client cannot know whether it went through.
    The long poll is never slowed (it waits by design). `injected` counts what was done.
    """

    error_rate: float = 0.05
    throttle_rate: float = 0.01
    slow_rate: float = 0.005
    slow_by: float = 6.0
    retry_after: int = 1
    seed: int = 6
    injected: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def roll(self, method: str) -> tuple[Fault | None, float]:
        """The fault for this request, if any, and how late to answer it."""
        self.requests += 1
        draw = self._random.random()
        kind = None
        fault: Fault | None = None
        late = 0.0
        if draw < self.error_rate:
            kind, fault = "500", Fault(method, 500, "Internal Server Error")
        elif draw < self.error_rate + self.throttle_rate:
            description = f"Too Many Requests: retry after {self.retry_after}"
            kind, fault = "429", Fault(method, 429, description, self.retry_after)
        elif (
            draw < self.error_rate + self.throttle_rate + self.slow_rate and method != "getUpdates"
        ):
            kind, late = "slow", self.slow_by
        if kind is not None:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return fault, late


@dataclass
class _Poll:
    updates: list[dict[str, Any]] = field(default_factory=list)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)


class FakeBotApi:
    """The server: start it, point the bot's base_url at `base_url`, inject, then assert."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int = 7000000001,
        username: str = "deepseek_kb_test_bot",
        first_name: str = "DeepSeek KB",
    ) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.chaos: Chaos | None = None
        """Random faults on a share of all requests, once `unleash` is called."""
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.unsized: set[str] = set()
        """File ids whose getFile answer leaves out file_size (Telegram may)."""
        self.downloads: list[str] = []
        """The file paths downloaded, in order."""
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self._poll = _Poll()
        self._call_event = asyncio.Event()
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._open_queries: set[str] = set()
        self._query_ids = itertools.count(1)
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What the bot passes as `base_url` (the token is appended by the client)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What the bot passes as `base_file_url`."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a client that gives up on a long poll ends it here too,
        # so stopping the server takes milliseconds instead of a whole poll timeout.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        """Wake pending long polls and close the server."""
        self._closing = True
        self._poll.wakeup.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- injecting -------------------------------------------------------------------------

    def prepare(self, update: dict[str, Any]) -> dict[str, Any]:
        """Give an update its id and learn its chats, as Telegram does before delivering it.

        `inject` does it for polling; a webhook test posts the prepared update itself.
        """
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._remember(update)
        return update

    def inject(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; safe from any thread. Returns its update_id."""
        update = self.prepare(update)
        loop = self._loop
        if loop is not None and _running_loop() is not loop:
            loop.call_soon_threadsafe(self._queue, update)
        else:
            self._queue(update)
        return int(update["update_id"])

    def _queue(self, update: dict[str, Any]) -> None:
        self._poll.updates.append(update)
        old, self._poll.wakeup = self._poll.wakeup, asyncio.Event()
        old.set()

    def _remember(self, update: dict[str, Any]) -> None:
        """Learn chats and open queries from what users send, as Telegram would know them."""
        for key in ("message", "edited_message"):
            if key in update:
                chat = update[key]["chat"]
                self.chats[int(chat["id"])] = chat
        if "callback_query" in update:
            self._open_queries.add(str(update["callback_query"]["id"]))
            message = update["callback_query"].get("message")
            if message:
                self.chats[int(message["chat"]["id"])] = message["chat"]
        if "inline_query" in update:
            self._open_queries.add(str(update["inline_query"]["id"]))

    def fail(
        self,
        method: str,
        status: int = 500,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Answer the next `times` matching calls of `method` with this error.

        `delay` holds the answer back first; with `status=200` the call then succeeds, which
        makes a slow but successful request.
        """
        if description is None:
            description = {
                400: "Bad Request",
                403: "Forbidden: bot was blocked by the user",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Error")
        fault = Fault(method, status, description, retry_after, times, match, delay)
        self.faults.append(fault)
        return fault

    def add_file(
        self, content: bytes, file_path: str = "documents/file_0.bin", *, sized: bool = True
    ) -> str:
        """Make a file downloadable through getFile; returns its file_id.

        `sized=False`: getFile does not tell the size, so only the download shows it.
        """
        file_id = f"FILE{len(self.files) + 1}"
        self.files[file_id] = (file_path, content)
        if not sized:
            self.unsized.add(file_id)
        return file_id

    def know_chat(self, chat: dict[str, Any]) -> None:
        """Make a chat reachable, as if its user had started the bot earlier."""
        self.chats[int(chat["id"])] = chat

    def document_update(
        self,
        sender: dict[str, Any],
        content: bytes,
        file_name: str,
        *,
        file_size: int | None = -1,
        sized: bool = True,
        chat: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`sender` sends `content` as a document named `file_name`.

        `file_size` is what the message claims (-1: the real size; None: nothing), as a
        client may send anything there; `sized` is whether getFile tells the size.
        """
        file_id = self.add_file(content, f"documents/file_{len(self.files)}.yaml", sized=sized)
        update = self.message_update(sender, "", chat=chat)
        message = update["message"]
        del message["text"]
        message.pop("entities", None)
        message["document"] = {
            "file_id": file_id,
            "file_unique_id": f"U{file_id}",
            "file_name": file_name,
            "mime_type": "application/x-yaml",
        }
        size = len(content) if file_size == -1 else file_size
        if size is not None:
            message["document"]["file_size"] = size
        return update

    @property
    def queued(self) -> list[dict[str, Any]]:
        """Updates waiting for getUpdates: injected, and not yet confirmed by the bot."""
        return list(self._poll.updates)

    def unleash(self, **settings: Any) -> Chaos:
        """From now on, answer a random share of requests with faults (see `Chaos`)."""
        self.chaos = Chaos(**settings)
        return self.chaos

    # -- users doing things ----------------------------------------------------------------

    def message_update(
        self,
        user: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A text message, with the entities Telegram would attach (commands, mentions)."""
        if chat is None:
            chat = private_chat(user)
        message_id = next(self._message_counter(int(chat["id"])))
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        entities = text_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return {"message": message}

    def say(
        self,
        user: dict[str, Any],
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> int:
        """A user sends `text` (in private unless `chat` is given)."""
        return self.inject(self.message_update(user, text, chat=chat, reply_to=reply_to))

    def press(self, user: dict[str, Any], message: dict[str, Any], data: str) -> str:
        """A user presses the button with `data` under the bot's `message`; returns query id."""
        query_id = f"CQ{next(self._query_ids)}"
        self.inject(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": f"ci{message['chat']['id']}",
                    "message": message,
                    "data": data,
                }
            }
        )
        return query_id

    def inline(self, user: dict[str, Any], query: str) -> str:
        """A user types `@bot query` in some chat; returns the inline query id."""
        query_id = f"IQ{next(self._query_ids)}"
        self.inject({"inline_query": {"id": query_id, "from": user, "query": query, "offset": ""}})
        return query_id

    # -- asserting -------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        """The recorded calls of `method` (successful ones unless told otherwise)."""
        return [c for c in self.calls if c.method == method and (not ok_only or c.status == 200)]

    def sent_to(self, chat_id: int) -> list[Call]:
        """Successful sendMessage calls addressed to `chat_id`."""
        return [c for c in self.calls_to("sendMessage") if c.params.get("chat_id") == chat_id]

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        match: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        ok_only: bool = True,
    ) -> list[Call]:
        """Wait until `count` matching calls were recorded; returns them. Fails on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            event = self._call_event
            found = [c for c in self.calls_to(method, ok_only=ok_only) if match is None or match(c)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(c.method, c.status) for c in self.calls]
                raise AssertionError(
                    f"expected {count} call(s) to {method}, got {len(found)}; calls: {seen}"
                )
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue

    async def quiet(self, seconds: float = 0.2) -> None:
        """Let the bot run for a moment (to assert that it did *not* do something)."""
        await asyncio.sleep(seconds)

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        for file_path, content in self.files.values():
            if file_path == path:
                self.downloads.append(path)
                return web.Response(body=content)
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _read_params(request)
        if request.match_info["token"] != self.token:
            error = ApiError(401, "Unauthorized")
            self._record(method, params, error.status)
            return web.json_response(error.body(), status=error.status)
        fault = self._take_fault(method, params)
        late = 0.0
        if fault is None and self.chaos is not None:
            fault, late = self.chaos.roll(method)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        try:
            if fault is not None and fault.status != 200:
                raise ApiError(fault.status, fault.description, fault.retry_after)
            result = await self._dispatch(method, params)
        except ApiError as error:
            self._record(method, params, error.status)
            return web.json_response(error.body(), status=error.status)
        # A snapshot: later edits of the same message must not rewrite history.
        snapshot = json.loads(json.dumps(result))
        self._record(method, params, 200, snapshot)
        if late:  # done and recorded, but the answer comes after the client gave up on it
            await asyncio.sleep(late)
        return web.json_response({"ok": True, "result": snapshot})

    def _record(self, method: str, params: dict[str, Any], status: int, result: Any = None) -> Call:
        call = Call(method, params, status, time.monotonic(), result)
        self.calls.append(call)
        old, self._call_event = self._call_event, asyncio.Event()
        old.set()
        return call

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self.faults:
            if (
                fault.times > 0
                and fault.method == method
                and (fault.match is None or fault.match(params))
            ):
                fault.times -= 1
                return fault
        return None

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        return await handler(params)

    # -- methods ---------------------------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._poll.updates.clear()
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        if not str(params.get("url", "")).startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided")
        self.webhook = dict(params)
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._poll.updates),
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            # An offset confirms every update before it: Telegram forgets them.
            self._poll.updates = [u for u in self._poll.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            wakeup = self._poll.wakeup
            pending = self._poll.updates[:limit]
            if pending or self._closing:
                return pending
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            try:
                await asyncio.wait_for(wakeup.wait(), remaining)
            except TimeoutError:
                return []

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params.get("chat_id"))
        text = str(params.get("text", ""))
        self._check_text(text, params)
        message_id = next(self._message_counter(int(chat["id"])))
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            "text": text,
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(int(chat["id"]), message_id)] = message
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text", ""))
        self._check_text(text, params)
        if "inline_message_id" in params:
            return True
        chat = self._chat(params.get("chat_id"))
        key = (int(chat["id"]), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if message["text"] == text and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = text
        message["edit_date"] = int(time.time())
        if isinstance(markup, dict):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params.get("chat_id"))
        key = (int(chat["id"]), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        problem = markup_problem(params.get("reply_markup"))
        if problem:
            raise ApiError(400, f"Bad Request: {problem}")
        message["reply_markup"] = params.get("reply_markup")
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self._close_query(str(params.get("callback_query_id", "")))
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> Any:
        self._close_query(str(params.get("inline_query_id", "")))
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for result in results:
            if not 1 <= len(str(result.get("id", "")).encode()) <= 64:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            content = result.get("input_message_content") or {}
            if content.get("parse_mode") == "HTML":
                problem = html_problem(str(content.get("message_text", "")))
                if problem:
                    raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
            problem = markup_problem(result.get("reply_markup"))
            if problem:
                raise ApiError(400, f"Bad Request: {problem}")
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not 0 <= len(commands) <= 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND_NAME.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        key = (str(scope.get("type", "default")), str(params.get("language_code", "")))
        self.commands[key] = commands
        return True

    async def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        scope = params.get("scope") or {"type": "default"}
        key = (str(scope.get("type", "default")), str(params.get("language_code", "")))
        return self.commands.get(key, [])

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        self._chat(params.get("chat_id"))
        return True

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        file_path, content = self.files[file_id]
        answer: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"U{file_id}",
            "file_path": file_path,
        }
        if file_id not in self.unsized:
            answer["file_size"] = len(content)
        return answer

    # -- helpers ---------------------------------------------------------------------------

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        try:
            chat = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _message_counter(self, chat_id: int) -> itertools.count[int]:
        return self._message_ids.setdefault(chat_id, itertools.count(1))

    def _check_text(self, text: str, params: dict[str, Any]) -> None:
        if params.get("parse_mode") == "HTML":
            problem = html_problem(text)
            if problem:
                raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
        elif not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        elif utf16_len(text) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        problem = markup_problem(params.get("reply_markup"))
        if problem:
            raise ApiError(400, f"Bad Request: {problem}")

    def _close_query(self, query_id: str) -> None:
        if query_id not in self._open_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._open_queries.discard(query_id)


# -- building blocks for updates ------------------------------------------------------------


def user(
    user_id: int, first_name: str = "Alice", language_code: str | None = "fr"
) -> dict[str, Any]:
    """A Telegram User object for a human."""
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        data["language_code"] = language_code
    return data


def private_chat(of: dict[str, Any]) -> dict[str, Any]:
    """The private chat between the bot and `of`."""
    return {"id": of["id"], "type": "private", "first_name": of.get("first_name", "")}


def group_chat(
    chat_id: int = -100123, title: str = "AI watchers", kind: str = "supergroup"
) -> dict[str, Any]:
    """A group or supergroup chat."""
    return {"id": chat_id, "type": kind, "title": title}


_ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")),
    ("url", re.compile(r"https?://\S+")),
)


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram attaches: a bot_command at offset 0, mentions, URLs."""
    entities: list[dict[str, Any]] = []
    command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
    for kind, pattern in _ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            if command and match.start() < command.end():
                continue
            entities.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group()),
                }
            )
    entities.sort(key=lambda e: int(e["offset"]))
    return entities


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Decode a request the way Telegram does: query string, form, multipart or JSON."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                return {**raw, **body}
        else:
            form = await request.post()
            for key, value in form.items():
                raw[key] = value if isinstance(value, str) else getattr(value, "file", value)
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_FIELDS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def buttons_text(call: Call) -> list[str]:
    """Every button's label, in order."""
    return [str(b.get("text", "")) for row in call.buttons for b in row]


def find_button(call: Call, predicate: Callable[[str], bool]) -> str:
    """The callback data of the first button whose data satisfies `predicate`."""
    for data in call.callback_data:
        if predicate(data):
            return data
    raise AssertionError(f"no matching button in {call.callback_data}")


def all_text(calls: Iterable[Call]) -> str:
    """Every message text of `calls`, joined, for substring assertions."""
    return "\n".join(c.text for c in calls)


__all__ = [
    "ApiError",
    "Call",
    "Chaos",
    "FakeBotApi",
    "Fault",
    "all_text",
    "buttons_text",
    "find_button",
    "group_chat",
    "html_problem",
    "private_chat",
    "user",
]
