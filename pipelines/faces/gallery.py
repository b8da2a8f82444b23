"""Galleries of enrolled faces (watchlists for 1:N, the staff register for 1:1 by badge id).

Storage layout in the face :class:`~pipelines.faces.blobstore.BlobStore` (``<g>`` = gallery):

* ``galleries/<g>/meta.json``: kind, counts, ``generation`` (bumped by every change),
  next template id -- no biometric data, stored in clear so galleries can be listed;
* ``galleries/<g>/subjects/<subject>.bin``: the subject's templates (128-d embeddings) and
  enrolment facts, AES-GCM encrypted, bound to that key;
* ``galleries/<g>/index.bin``: the FAISS index (it holds the vectors too) plus the template ->
  subject table, encrypted. It carries the generation it was built for; a stale or missing
  index is rebuilt from the subject blobs when the gallery is opened.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from kouan.domain import utcnow
from kouan.errors import UsageError
from kouan.evidence.errors import ObjectNotFound
from pipelines.faces.blobstore import BlobStore
from pipelines.faces.crypto import TemplateCipher
from pipelines.faces.index import EXACT_MAX, FaissIndex, IndexKind, IndexSpec, choose_spec
from vision.faces.embeddings import EMBEDDING_DIM, as_embeddings

log = logging.getLogger(__name__)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
PREFIX = "galleries"


class GalleryKind(StrEnum):
    WATCHLIST = "watchlist"
    STAFF = "staff"


class UnknownGallery(UsageError):
    """No gallery of that name (HTTP 404, CLI exit 2)."""


class UnknownSubject(UsageError):
    """No subject/badge of that id in the gallery (HTTP 404, CLI exit 2)."""


def check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise UsageError(f"{what} {value!r} must be 1-128 characters of A-Z a-z 0-9 . _ : - "
                         "(starting with a letter or digit)")
    return value


@dataclass
class Template:
    template_id: int
    embedding: npt.NDArray[np.float32]
    source_sha256: str
    enrolled_at: str


@dataclass
class Subject:
    subject_id: str
    templates: list[Template] = field(default_factory=list)
    display_name: str = ""
    created_at: str = ""

    def embeddings(self) -> npt.NDArray[np.float32]:
        if not self.templates:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        return np.stack([t.embedding for t in self.templates]).astype(np.float32)

    def to_json(self) -> bytes:
        return json.dumps({
            "subject_id": self.subject_id, "display_name": self.display_name,
            "created_at": self.created_at,
            "templates": [{"id": t.template_id, "source_sha256": t.source_sha256,
                           "enrolled_at": t.enrolled_at,
                           "embedding": base64.b64encode(
                               t.embedding.astype("<f4").tobytes()).decode("ascii")}
                          for t in self.templates]}).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Subject:
        d = json.loads(data)
        return cls(d["subject_id"], [
            Template(int(t["id"]), np.frombuffer(base64.b64decode(t["embedding"]), "<f4")
                     .astype(np.float32), t["source_sha256"], t["enrolled_at"])
            for t in d["templates"]], d.get("display_name", ""), d.get("created_at", ""))


@dataclass
class GalleryMeta:
    name: str
    kind: GalleryKind
    created_at: str
    generation: int = 0
    next_template_id: int = 1
    subjects: int = 0
    templates: int = 0
    index_kind: str = IndexKind.FLAT.value

    def to_json(self) -> bytes:
        return json.dumps({**self.__dict__, "kind": self.kind.value}, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> GalleryMeta:
        d = json.loads(data)
        return cls(**{**d, "kind": GalleryKind(d["kind"])})


@dataclass(frozen=True)
class Candidate:
    subject_id: str
    distance: float
    template_id: int


class Gallery:
    """One gallery loaded in memory: meta + FAISS index + template -> subject table.

    Mutations write the subject blob, then the index blob, then meta (with a new generation);
    a crash in between leaves a stale index that the next open rebuilds from the subjects.
    """

    def __init__(self, store: BlobStore, cipher: TemplateCipher, meta: GalleryMeta,
                 index: FaissIndex, owners: dict[int, str], *,
                 large_kind: IndexKind = IndexKind.IVF_FLAT, exact_max: int = EXACT_MAX) -> None:
        self.store, self.cipher, self.meta = store, cipher, meta
        self.index, self.owners = index, owners
        self.large_kind, self.exact_max = large_kind, exact_max
        self.lock = threading.RLock()

    # -- keys ---------------------------------------------------------------------------------
    @staticmethod
    def meta_key(name: str) -> str:
        return f"{PREFIX}/{name}/meta.json"

    @staticmethod
    def subject_key(name: str, subject_id: str) -> str:
        return f"{PREFIX}/{name}/subjects/{subject_id}.bin"

    @staticmethod
    def index_key(name: str) -> str:
        return f"{PREFIX}/{name}/index.bin"

    # -- subjects -----------------------------------------------------------------------------
    def get_subject(self, subject_id: str) -> Subject:
        key = self.subject_key(self.meta.name, check_name(subject_id, "id"))
        try:
            blob = self.store.get(key)
        except ObjectNotFound:
            raise UnknownSubject(f"gallery {self.meta.name!r} has no id {subject_id!r}") from None
        return Subject.from_json(self.cipher.decrypt(blob, key))

    def _put_subject(self, subject: Subject) -> None:
        key = self.subject_key(self.meta.name, subject.subject_id)
        self.store.put(key, self.cipher.encrypt(subject.to_json(), key))

    def subject_ids(self) -> list[str]:
        prefix = f"{PREFIX}/{self.meta.name}/subjects/"
        return [k[len(prefix):-len(".bin")] for k in self.store.list(prefix) if k.endswith(".bin")]

    def enroll(self, subject_id: str, embeddings: npt.ArrayLike, sources: list[str],
               display_name: str = "") -> Subject:
        """Add templates to ``subject_id`` (created when new); returns the stored subject."""
        check_name(subject_id, "id")
        emb = as_embeddings(embeddings)
        if len(emb) != len(sources):
            raise ValueError(f"{len(emb)} embeddings but {len(sources)} sources")
        with self.lock:
            try:
                subject = self.get_subject(subject_id)
            except UnknownSubject:
                subject = Subject(subject_id, [], display_name, utcnow().isoformat())
            if display_name:
                subject.display_name = display_name
            now = utcnow().isoformat()
            first = self.meta.next_template_id
            new = [Template(first + i, emb[i], sources[i], now) for i in range(len(emb))]
            subject.templates.extend(new)
            self.meta.next_template_id = first + len(new)
            self._put_subject(subject)
            ids = np.array([t.template_id for t in new], dtype=np.int64)
            if self._should_grow(self.index.size + len(new)):
                self._rebuild_in_memory()
            else:
                self.index.add(emb, ids)
                self.owners.update({int(t): subject_id for t in ids})
            self._recount(subjects_delta=1 if len(subject.templates) == len(new) else 0,
                          templates_delta=len(new))
            self._persist()
            return subject

    def remove(self, subject_id: str) -> int:
        """Delete a subject and its templates (blob and index entries); returns templates
        removed. :class:`UnknownSubject` if absent."""
        with self.lock:
            subject = self.get_subject(subject_id)
            ids = np.array([t.template_id for t in subject.templates], dtype=np.int64)
            self.store.delete(self.subject_key(self.meta.name, subject_id))
            if len(ids):
                self.index.remove(ids)
            for t in ids.tolist():
                self.owners.pop(int(t), None)
            self._recount(subjects_delta=-1, templates_delta=-len(ids))
            self._persist()
            return len(ids)

    # -- search -------------------------------------------------------------------------------
    def search(self, queries: npt.ArrayLike, k: int = 5) -> list[list[Candidate]]:
        """For each query embedding, up to ``k`` nearest *subjects* (best template each),
        nearest first."""
        q = as_embeddings(queries)
        with self.lock:
            dist, ids = self.index.search(q, max(k * 4, k))
            out: list[list[Candidate]] = []
            for row_d, row_i in zip(dist, ids, strict=True):
                best: dict[str, Candidate] = {}
                for d, t in zip(row_d.tolist(), row_i.tolist(), strict=True):
                    owner = self.owners.get(int(t))
                    if t < 0 or owner is None or owner in best:
                        continue
                    best[owner] = Candidate(owner, float(d), int(t))
                out.append(sorted(best.values(), key=lambda c: c.distance)[:k])
            return out

    # -- index maintenance --------------------------------------------------------------------
    def _should_grow(self, n: int) -> bool:
        wanted = choose_spec(n, large=self.large_kind, exact_max=self.exact_max).kind
        return wanted is not self.index.spec.kind

    def _all_templates(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64],
                                      dict[int, str]]:
        vecs, ids, owners = [], [], {}
        for sid in self.subject_ids():
            subject = self.get_subject(sid)
            for t in subject.templates:
                vecs.append(t.embedding)
                ids.append(t.template_id)
                owners[t.template_id] = sid
        if not vecs:
            return np.zeros((0, EMBEDDING_DIM), np.float32), np.zeros(0, np.int64), owners
        return np.stack(vecs).astype(np.float32), np.array(ids, np.int64), owners

    def _rebuild_in_memory(self, spec: IndexSpec | None = None) -> None:
        vecs, ids, owners = self._all_templates()
        spec = spec or choose_spec(len(vecs), large=self.large_kind, exact_max=self.exact_max)
        self.index = FaissIndex.build(spec, vecs, ids, EMBEDDING_DIM)
        self.owners = owners
        self.meta.subjects = len(set(owners.values())) if owners else len(self.subject_ids())
        self.meta.templates = len(ids)

    def rebuild(self, spec: IndexSpec | None = None) -> IndexSpec:
        """Re-read every subject and build a fresh index (drops tombstones, re-trains IVF)."""
        with self.lock:
            self._rebuild_in_memory(spec)
            self._persist()
            return self.index.spec

    def _recount(self, subjects_delta: int, templates_delta: int) -> None:
        self.meta.subjects = max(0, self.meta.subjects + subjects_delta)
        self.meta.templates = max(0, self.meta.templates + templates_delta)

    def _persist(self) -> None:
        self.meta.generation += 1
        self.meta.index_kind = self.index.spec.kind.value
        key = self.index_key(self.meta.name)
        self.store.put(key, self.cipher.encrypt(
            pack_index(self.index, self.owners, self.meta.generation), key))
        self.store.put(self.meta_key(self.meta.name), self.meta.to_json())


def pack_index(index: FaissIndex, owners: dict[int, str], generation: int) -> bytes:
    buf = io.BytesIO()
    tids = np.fromiter(owners.keys(), dtype=np.int64, count=len(owners))
    sids = np.array(list(owners.values()), dtype=np.str_) if owners else np.zeros(0, np.str_)
    np.savez(buf, index=np.frombuffer(index.to_bytes(), dtype=np.uint8), tids=tids, sids=sids,
             generation=np.array([generation], dtype=np.int64))
    return buf.getvalue()


def unpack_index(data: bytes) -> tuple[FaissIndex, dict[int, str], int]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        index = FaissIndex.from_bytes(z["index"].tobytes())
        owners = dict(zip(z["tids"].tolist(), z["sids"].tolist(), strict=True))
        generation = int(z["generation"][0])
    return index, owners, generation


class GalleryRepository:
    """Creates, opens (cached per process), lists and deletes galleries."""

    def __init__(self, store: BlobStore, cipher: TemplateCipher, *,
                 large_kind: IndexKind = IndexKind.IVF_FLAT, exact_max: int = EXACT_MAX) -> None:
        self.store, self.cipher, self.large_kind = store, cipher, large_kind
        self.exact_max = exact_max
        self._open: dict[str, Gallery] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted({k.split("/")[1] for k in self.store.list(f"{PREFIX}/")
                       if k.endswith("/meta.json")})

    def read_meta(self, name: str) -> GalleryMeta:
        try:
            return GalleryMeta.from_json(self.store.get(Gallery.meta_key(check_name(
                name, "gallery"))))
        except ObjectNotFound:
            raise UnknownGallery(f"unknown gallery {name!r} (known: "
                                 f"{', '.join(self.names()) or 'none'})") from None

    def create(self, name: str, kind: GalleryKind) -> Gallery:
        check_name(name, "gallery")
        with self._lock:
            if self.store.exists(Gallery.meta_key(name)):
                meta = self.read_meta(name)
                if meta.kind is not kind:
                    raise UsageError(f"gallery {name!r} exists and is a {meta.kind.value}, "
                                     f"not a {kind.value}")
                return self._load(name, meta)
            meta = GalleryMeta(name, kind, utcnow().isoformat())
            gallery = Gallery(self.store, self.cipher, meta,
                              FaissIndex(choose_spec(0), EMBEDDING_DIM), {},
                              large_kind=self.large_kind, exact_max=self.exact_max)
            gallery._persist()
            self._open[name] = gallery
            return gallery

    def open(self, name: str) -> Gallery:
        with self._lock:
            meta = self.read_meta(name)
            cached = self._open.get(name)
            if cached is not None and cached.meta.generation == meta.generation:
                return cached
            return self._load(name, meta)

    def _load(self, name: str, meta: GalleryMeta) -> Gallery:
        key = Gallery.index_key(name)
        index: FaissIndex | None = None
        owners: dict[int, str] = {}
        try:
            index, owners, generation = unpack_index(self.cipher.decrypt(self.store.get(key),
                                                                          key))
            if generation != meta.generation:
                log.warning("gallery %s: index generation %d != meta %d; rebuilding", name,
                            generation, meta.generation)
                index = None
        except ObjectNotFound:
            log.warning("gallery %s: no index blob; rebuilding", name)
        gallery = Gallery(self.store, self.cipher, meta,
                          index or FaissIndex(choose_spec(0), EMBEDDING_DIM), owners,
                          large_kind=self.large_kind, exact_max=self.exact_max)
        if index is None:
            gallery.rebuild()
        self._open[name] = gallery
        return gallery

    def delete(self, name: str) -> int:
        """Delete a gallery and every blob under it; returns the number of blobs removed."""
        self.read_meta(name)
        with self._lock:
            self._open.pop(name, None)
            keys = list(self.store.list(f"{PREFIX}/{name}/"))
            # meta last: a half-deleted gallery still shows up and can be deleted again
            keys.sort(key=lambda k: k.endswith("/meta.json"))
            for k in keys:
                self.store.delete(k)
            return len(keys)


def describe(meta: GalleryMeta) -> dict[str, Any]:
    return {"name": meta.name, "kind": meta.kind.value, "subjects": meta.subjects,
            "templates": meta.templates, "index": meta.index_kind, "created_at": meta.created_at}
