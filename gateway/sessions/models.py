"""Wire formats of the session API, as the official client reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from ..http import wire

BrowserMode = Literal["electron-embedded-browser", "local-browser-service", "remote-cdp-websocket"]


class Wire(wire.Wire):
    """camelCase on the wire, snake_case in Python; unset fields left out."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    omit_none = True


class Callback(Wire):
    tool_name: str = Field(alias="toolName")
    type: Literal["bash_script", "sub_agent", "send_message"]
    bash_command: str | None = Field(None, alias="bashCommand")
    bash_timeout: int | None = Field(None, alias="bashTimeout", ge=0)
    exclude_from_context: bool | None = Field(None, alias="excludeFromContext")
    include_full_history: bool | None = Field(None, alias="includeFullHistory")
    message_content: str | None = Field(None, alias="messageContent")
    name: str | None = None
    sub_agent_prompt: str | None = Field(None, alias="subAgentPrompt")
    sub_agent_type: str | None = Field(None, alias="subAgentType")


class CreateSession(Wire):
    """``POST /api/sessions``; unknown fields are refused, as upstream does."""

    title: str = Field(max_length=1000)
    browser_mode: BrowserMode = Field("local-browser-service", alias="browserMode")
    prompt_mode: Literal["default", "append", "replace"] = Field("default", alias="promptMode")
    custom_system_prompt: str | None = Field(None, alias="customSystemPrompt", max_length=102_400)
    session_type: Literal["main"] = Field("main", alias="sessionType")
    subagent_type: None = Field(None, alias="subagentType", description="reserved: must not be set")
    cdp_url: str | None = Field(None, alias="cdpUrl", max_length=2048)
    callbacks: list[Callback] | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _cdp_url_matches_mode(self) -> CreateSession:
        if self.browser_mode == "remote-cdp-websocket":
            if not self.cdp_url or not self.cdp_url.startswith(("ws://", "wss://")):
                raise ValueError("cdpUrl starting with ws:// or wss:// is required for remote-cdp-websocket")
        elif self.cdp_url is not None:
            raise ValueError("cdpUrl is only allowed with browserMode remote-cdp-websocket")
        if self.prompt_mode == "append" and len((self.custom_system_prompt or "").encode()) > 51_200:
            raise ValueError("customSystemPrompt is limited to 50 KB in append mode")
        return self


class Session(Wire):
    """A stored session, as ``SessionData`` on the wire."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    title: str
    session_type: Literal["main", "subagent"] = Field("main", alias="sessionType")
    browser_mode: BrowserMode = Field(alias="browserMode")
    created_at: datetime = Field(alias="createdAt")
    user_message_count: int = Field(0, alias="userMessageCount")
    assistant_message_count: int = Field(0, alias="assistantMessageCount")
    tool_call_count: int = Field(0, alias="toolCallCount")
    prompt_tokens: int = Field(0, alias="promptTokens")
    completion_tokens: int = Field(0, alias="completionTokens")
    cost: float = 0.0
    cdp_url: str | None = Field(None, alias="cdpUrl")
    callbacks: list[Callback] | None = None


class FileInfo(Wire):
    name: str
    size: int
    modified: int  # unix seconds
    is_dir: bool = Field(False, alias="isDir")
    url: str
