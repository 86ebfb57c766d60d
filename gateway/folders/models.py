"""Wire formats of the folder files API, as letta-client reads and writes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field, model_validator

from ..http.wire import Wire
from .exceptions import InvalidId

EndpointType = Literal[
    "openai", "anthropic", "bedrock", "google_ai", "google_vertex", "azure", "groq", "ollama", "webui",
    "webui-legacy", "lmstudio", "lmstudio-legacy", "llamacpp", "koboldcpp", "vllm", "hugging-face", "mistral",
    "together", "pinecone",
]  # fmt: skip
Status = Literal["pending", "parsing", "embedding", "completed", "error"]
TERMINAL: tuple[Status, ...] = ("completed", "error")

DEFAULT_CHUNK_SIZE = 300
#: Neither ``embedding`` nor ``embedding_config`` given: Letta's usual
#: OpenAI model. It is only recorded; no embedder is called unless configured.
DEFAULT_EMBEDDING = {
    "embedding_endpoint_type": "openai",
    "embedding_endpoint": "https://api.openai.com/v1",
    "embedding_model": "text-embedding-3-small",
    "embedding_dim": 1536,
    "embedding_chunk_size": DEFAULT_CHUNK_SIZE,
    "handle": "openai/text-embedding-3-small",
    "batch_size": 1024,
}


def now() -> datetime:
    return datetime.now(UTC)


def parse_id(raw: str, prefix: str) -> str:
    """The canonical ``<prefix>-<uuid>`` id; ``InvalidId`` when ``raw`` is not one."""
    head, _, tail = raw.partition("-")
    try:
        if head != prefix or len(tail) != 36:
            raise ValueError
        return f"{prefix}-{uuid.UUID(tail)}"
    except ValueError:
        raise InvalidId(f"Invalid ID {raw!r}: expected the format '{prefix}-<uuid4>'") from None


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


class EmbeddingConfig(Wire):
    """Stored as given; fields this gateway does not know are kept too."""

    model_config = ConfigDict(extra="allow")

    embedding_endpoint_type: EndpointType
    embedding_model: str = Field(min_length=1)
    embedding_dim: int = Field(gt=0, le=65536)
    embedding_endpoint: str | None = None
    embedding_chunk_size: int | None = Field(DEFAULT_CHUNK_SIZE, ge=16, le=100_000)
    handle: str | None = None
    batch_size: int | None = Field(None, gt=0)

    @classmethod
    def from_handle(cls, handle: str) -> EmbeddingConfig:
        """``provider/model``: the provider must be an endpoint type; the
        dimension is the default model's, as the handle does not say it."""
        provider, _, model = handle.partition("/")
        if handle == DEFAULT_EMBEDDING["handle"]:
            return cls.model_validate(DEFAULT_EMBEDDING)
        return cls.model_validate(
            {
                "embedding_endpoint_type": provider,
                "embedding_model": model,
                "embedding_dim": DEFAULT_EMBEDDING["embedding_dim"],
                "handle": handle,
            }
        )


class FolderFields(Wire):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, max_length=100_000)
    instructions: str | None = Field(None, max_length=100_000)
    metadata: dict[str, Any] | None = None
    embedding_config: EmbeddingConfig | None = None


class CreateFolder(FolderFields):
    name: str = Field(min_length=1, max_length=1000)
    embedding: str | None = Field(None, pattern=r"^[^/]+/.+$")
    embedding_chunk_size: int | None = Field(None, ge=16, le=100_000)

    @model_validator(mode="after")
    def _known_provider(self) -> CreateFolder:
        if self.embedding is not None and self.embedding.partition("/")[0] not in get_args(EndpointType):
            raise ValueError(f"embedding: unknown provider in handle {self.embedding!r}")
        return self

    def config(self) -> EmbeddingConfig:
        if self.embedding_config is not None:
            config = self.embedding_config
        elif self.embedding is not None:
            config = EmbeddingConfig.from_handle(self.embedding)
        else:
            config = EmbeddingConfig.model_validate(DEFAULT_EMBEDDING)
        if self.embedding_chunk_size is not None:
            config = config.model_copy(update={"embedding_chunk_size": self.embedding_chunk_size})
        return config


class UpdateFolder(FolderFields):
    name: str | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _no_nulls(self) -> UpdateFolder:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        if "embedding_config" in self.model_fields_set and self.embedding_config is None:
            raise ValueError("embedding_config cannot be null")
        return self


class Folder(Wire):
    id: str
    name: str
    description: str | None = None
    instructions: str | None = None
    metadata: dict[str, Any] | None = None
    embedding_config: EmbeddingConfig
    created_at: datetime
    updated_at: datetime


class FileMetadata(Wire):
    id: str
    source_id: str
    file_name: str
    original_file_name: str
    file_path: str | None = None
    file_type: str
    file_size: int | None = None
    file_creation_date: str | None = None
    file_last_modified_date: str | None = None
    processing_status: Status = "pending"
    error_message: str | None = None
    total_chunks: int | None = None
    chunks_embedded: int | None = None
    content: str | None = None
    created_at: datetime
    updated_at: datetime


class FileStats(Wire):
    file_id: str
    file_name: str
    file_size: int | None = None


class SourceStats(Wire):
    source_id: str
    source_name: str
    file_count: int = 0
    total_size: int = 0
    files: list[FileStats] = []


class SourcesStats(Wire):
    """Upstream's ``OrganizationSourcesStats``: ``sources`` is filled only
    with ``include_detailed_per_source_metadata=true``."""

    total_sources: int = 0
    total_files: int = 0
    total_size: int = 0
    sources: list[SourceStats] = []


class Passage(Wire):
    """A chunk of a file with its embedding, as upstream lists them. This
    gateway embeds nothing unless an embedder is configured, so it stores
    none: the model describes the shape for ``/openapi.json``."""

    id: str
    text: str
    source_id: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    archive_id: str | None = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    embedding: list[float] | None = None
    embedding_config: EmbeddingConfig | None = None
    is_deleted: bool = False
    created_by_id: str | None = None
    last_updated_by_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
