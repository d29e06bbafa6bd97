"""A small SRU server on loopback, written from the SRU 1.2 and 2.0 standards for the tests.

It keeps a catalogue of books with copies, parses the CQL it is sent (``index relation
term`` clauses joined by ``and``/``or``, parentheses, quoted terms with backslash escapes)
and answers searchRetrieve in the response form of the version asked for: SRU 1.x in
``http://www.loc.gov/zing/srw/`` with ``recordPacking``, SRU 2.0 in the OASIS
``sruResponse`` namespace with ``recordXMLEscaping``; ``string`` packing escapes the
record. Records are MARCXML with the copies in 852, 952 or AVA fields, OPAC XML, or ISO
20775 holdings (``recordSchema=isohold``). Errors are SRU diagnostics: 1/4 unsupported
operation, 1/5 unsupported version, 1/7 missing parameter, 1/10 query syntax, 1/16
unsupported index, 1/19 unsupported relation, 1/66 unknown record schema. Every request's
parameters are kept in ``requests``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

SRW = "http://www.loc.gov/zing/srw/"
SRW_DIAG = "http://www.loc.gov/zing/srw/diagnostic/"
SRU2 = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
SRU2_DIAG = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
MARC = "http://www.loc.gov/MARC21/slim"
ISO20775 = "http://www.loc.gov/standards/iso20775/"


@dataclass
class Copy:
    barcode: str
    library: str
    location: str
    call_number: str
    available: bool = True
    holder: str = "MAIN"


@dataclass
class Book:
    record_id: str
    title: str
    isbns: Sequence[str] = ()
    issns: Sequence[str] = ()
    oclc: str | None = None
    copies: Sequence[Copy] = ()
    layout: str = "852"  # 852, 952, AVA, opac, iso20775 (the schema decides for isohold)
    namespace: bool = True  # False: MARC without the slim namespace (as the GVI sends it)


class CqlSyntaxError(ValueError):
    pass


_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|(==|<>|<=|>=|=|<|>)|([^\s()"=<>]+))')


def tokens(query: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    query = query.rstrip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            raise CqlSyntaxError(f"cannot read the query at {position}")
        position = match.end()
        opening, closing, quoted, symbol, word = match.groups()
        if opening:
            found.append(("(", "("))
        elif closing:
            found.append((")", ")"))
        elif quoted is not None:
            found.append(("term", re.sub(r"\\(.)", r"\1", quoted)))
        elif symbol:
            found.append(("rel", symbol))
        else:
            found.append(("word", word))
    return found


Clause = tuple[str, str, str]  # index, relation, term
Tree = Any  # a clause, or ("and"|"or", left, right)


class _Parser:
    def __init__(self, query: str) -> None:
        self.items = tokens(query)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.peek()
        if item is None:
            raise CqlSyntaxError("the query ends too early")
        self.at += 1
        return item

    def query(self) -> Tree:
        left = self.clause()
        while (
            (item := self.peek()) is not None
            and item[0] == "word"
            and item[1].lower()
            in (
                "and",
                "or",
            )
        ):
            self.take()
            left = (item[1].lower(), left, self.clause())
        return left

    def clause(self) -> Tree:
        kind, value = self.take()
        if kind == "(":
            inner = self.query()
            if self.take()[0] != ")":
                raise CqlSyntaxError("missing )")
            return inner
        nxt = self.peek()
        if (
            kind == "word"
            and nxt is not None
            and (nxt[0] == "rel" or (nxt[0] == "word" and nxt[1].lower() in ("all", "any", "adj")))
        ):
            relation = self.take()[1].lower()
            term_kind, term = self.take()
            if term_kind not in ("term", "word"):
                raise CqlSyntaxError("a relation needs a term")
            return (value.lower(), relation, term)
        if kind in ("term", "word"):
            return ("cql.serverchoice", "=", value)
        raise CqlSyntaxError(f"unexpected {value!r}")


def parse_cql(query: str) -> Tree:
    parser = _Parser(query)
    tree = parser.query()
    if parser.peek() is not None:
        raise CqlSyntaxError("text after the end of the query")
    return tree


def clauses(tree: Tree) -> Iterator[Clause]:
    if tree[0] in ("and", "or") and len(tree) == 3 and isinstance(tree[1], tuple):
        yield from clauses(tree[1])
        yield from clauses(tree[2])
    else:
        yield tree


def _compact(text: str) -> str:
    return re.sub(r"[\s\-]", "", text.split(" (")[0]).upper()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


INDEXES: dict[str, Callable[[Book], list[str]]] = {
    "bath.isbn": lambda b: [_compact(i) for i in b.isbns],
    "bath.issn": lambda b: [_compact(i) for i in b.issns],
    "rec.id": lambda b: [b.record_id.upper()],
    "dc.title": lambda b: [b.title],
    "oclc": lambda b: [re.sub(r"\D", "", b.oclc or "").lstrip("0")],
}


class Diagnostic(Exception):
    def __init__(self, code: int, details: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.details = details
        self.message = message


def matches(book: Book, tree: Tree) -> bool:
    if tree[0] in ("and", "or") and len(tree) == 3 and isinstance(tree[1], tuple):
        left, right = matches(book, tree[1]), matches(book, tree[2])
        return (left and right) if tree[0] == "and" else (left or right)
    index, relation, term = tree
    if index == "cql.serverchoice":
        index = "dc.title"
    if index not in INDEXES:
        raise Diagnostic(16, index, "Unsupported index")
    values = INDEXES[index](book)
    if relation in ("=", "==", "exact") and index != "dc.title":
        return _compact(term) in values
    if relation in ("all", "=", "adj"):
        wanted = _words(term)
        return any(all(w in _words(v) for w in wanted) for v in values)
    if relation == "any":
        wanted = _words(term)
        return any(any(w in _words(v) for w in wanted) for v in values)
    raise Diagnostic(19, relation, "Unsupported relation")


# -- records -------------------------------------------------------------------------------


def _datafield(parent: etree._Element, ns: str, tag: str, **subfields: str) -> None:
    field_ = etree.SubElement(parent, f"{ns}datafield", tag=tag, ind1=" ", ind2=" ")
    for code, value in subfields.items():
        etree.SubElement(field_, f"{ns}subfield", code=code.lstrip("_")).text = value


def marc_record(book: Book, *, with_items: bool = True) -> etree._Element:
    ns = f"{{{MARC}}}" if book.namespace else ""
    record = etree.Element(f"{ns}record", nsmap={"marc": MARC} if book.namespace else None)
    etree.SubElement(record, f"{ns}leader").text = "00000cam a2200000 a 4500"
    etree.SubElement(record, f"{ns}controlfield", tag="001").text = book.record_id
    for isbn in book.isbns:
        _datafield(record, ns, "020", a=isbn)
    for issn in book.issns:
        _datafield(record, ns, "022", a=issn)
    if book.oclc:
        _datafield(record, ns, "035", a=f"(OCoLC){book.oclc}")
    _datafield(record, ns, "245", a=book.title)
    if not with_items:
        return record
    for copy in book.copies:
        if book.layout == "852":
            _datafield(
                record,
                ns,
                "852",
                a=copy.holder,
                b=copy.library,
                c=copy.location,
                h=copy.call_number,
                p=copy.barcode,
                n="Available" if copy.available else "Checked out",
            )
        elif book.layout == "952":
            extra = {} if copy.available else {"q": "2026-10-01"}
            _datafield(
                record,
                ns,
                "952",
                a=copy.holder,
                b=copy.library,
                c=copy.location,
                o=copy.call_number,
                p=copy.barcode,
                _7="0",
                **extra,
            )
        elif book.layout == "AVA":
            _datafield(
                record,
                ns,
                "AVA",
                b=copy.holder,
                q=copy.library,
                c=copy.location,
                d=copy.call_number,
                e="available" if copy.available else "unavailable",
                _8=copy.barcode,
            )
    return record


def opac_record(book: Book) -> etree._Element:
    opac = etree.Element("opacRecord")
    etree.SubElement(opac, "bibliographicRecord").append(marc_record(book, with_items=False))
    holdings = etree.SubElement(opac, "holdings")
    for copy in book.copies:
        holding = etree.SubElement(holdings, "holding")
        etree.SubElement(holding, "nucCode").text = copy.holder
        etree.SubElement(holding, "localLocation").text = copy.library
        etree.SubElement(holding, "shelvingLocation").text = copy.location
        etree.SubElement(holding, "callNumber").text = copy.call_number
        circulation = etree.SubElement(etree.SubElement(holding, "circulations"), "circulation")
        etree.SubElement(circulation, "availableNow", value="1" if copy.available else "0")
        etree.SubElement(circulation, "itemId").text = copy.barcode
    return opac


def iso20775_holdings(book: Book) -> etree._Element:
    ns = f"{{{ISO20775}}}"
    root = etree.Element(f"{ns}holdings", nsmap={"iso": ISO20775})
    for copy in book.copies:
        holding = etree.SubElement(root, f"{ns}holding")
        ident = etree.SubElement(holding, f"{ns}institutionIdentifier")
        etree.SubElement(ident, f"{ns}value").text = copy.holder
        etree.SubElement(etree.SubElement(ident, f"{ns}typeOrSource"), f"{ns}pointer").text = "ISIL"
        etree.SubElement(holding, f"{ns}physicalLocation").text = copy.library
        simple = etree.SubElement(holding, f"{ns}holdingSimple")
        summary = etree.SubElement(simple, f"{ns}copiesSummary")
        etree.SubElement(summary, f"{ns}copiesCount").text = "1"
        info = etree.SubElement(simple, f"{ns}copyInformation")
        piece = etree.SubElement(info, f"{ns}pieceIdentifier")
        etree.SubElement(piece, f"{ns}value").text = copy.barcode
        etree.SubElement(info, f"{ns}sublocation").text = copy.location
        etree.SubElement(info, f"{ns}shelfLocator").text = copy.call_number
        status = etree.SubElement(
            etree.SubElement(info, f"{ns}availabilityInformation"), f"{ns}status"
        )
        etree.SubElement(status, f"{ns}availabilityStatus").text = (
            "available" if copy.available else "not available"
        )
    return root


SCHEMAS = {
    "marcxml": lambda b: opac_record(b) if b.layout == "opac" else marc_record(b),
    "info:srw/schema/1/marcxml-v1.1": marc_record,
    "opac": opac_record,
    "isohold": iso20775_holdings,
}


# -- the server ----------------------------------------------------------------------------


@dataclass
class SruCatalogue:
    """The catalogue and its settings; ``start()`` serves it on a free loopback port."""

    books: list[Book]
    versions: frozenset[str] = frozenset({"1.1", "1.2", "2.0"})
    delay_seconds: float = 0.0
    status: int = 200
    requests: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/sru"

    def start(self) -> SruCatalogue:
        catalogue = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with catalogue._lock:
                    catalogue.requests.append(params)
                if catalogue.delay_seconds:
                    time.sleep(catalogue.delay_seconds)
                body = catalogue.answer(params)
                try:
                    self.send_response(catalogue.status)
                    self.send_header("Content-Type", "text/xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> SruCatalogue:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- answers ---------------------------------------------------------------------------

    def answer(self, params: dict[str, str]) -> bytes:
        version = params.get("version", "1.2")
        answered_in = version if version in self.versions else max(self.versions)
        try:
            if version not in self.versions:
                raise Diagnostic(5, max(self.versions), "Unsupported version")
            if params.get("operation", "searchRetrieve") != "searchRetrieve":
                raise Diagnostic(4, params.get("operation", ""), "Unsupported operation")
            if "query" not in params:
                raise Diagnostic(7, "query", "Mandatory parameter not supplied")
            schema = params.get("recordSchema", "marcxml")
            if schema not in SCHEMAS:
                raise Diagnostic(66, schema, "Unknown schema for retrieval")
            try:
                tree = parse_cql(params["query"])
            except CqlSyntaxError as exc:
                raise Diagnostic(10, params["query"], f"Query syntax error: {exc}") from None
            hits = [book for book in self.books if matches(book, tree)]
        except Diagnostic as diag:
            return self._response(answered_in, [], diag, "xml", "marcxml")
        limit = int(params.get("maximumRecords", "10"))
        packing = params.get("recordXMLEscaping", params.get("recordPacking", "xml"))
        return self._response(answered_in, hits[:limit], None, packing, schema, total=len(hits))

    def _response(
        self,
        version: str,
        books: list[Book],
        diag: Diagnostic | None,
        packing: str,
        schema: str,
        total: int = 0,
    ) -> bytes:
        two = version == "2.0"
        ns, diag_ns = (SRU2, SRU2_DIAG) if two else (SRW, SRW_DIAG)
        z = f"{{{ns}}}"
        root = etree.Element(f"{z}searchRetrieveResponse", nsmap={"zs": ns})
        if not two:
            etree.SubElement(root, f"{z}version").text = version
        etree.SubElement(root, f"{z}numberOfRecords").text = str(total)
        if books:
            records = etree.SubElement(root, f"{z}records")
            for position, book in enumerate(books, 1):
                record = etree.SubElement(records, f"{z}record")
                etree.SubElement(record, f"{z}recordSchema").text = schema
                packing_name = "recordXMLEscaping" if two else "recordPacking"
                etree.SubElement(record, f"{z}{packing_name}").text = packing
                data = etree.SubElement(record, f"{z}recordData")
                content = SCHEMAS[schema](book)
                if packing == "string":
                    data.text = etree.tostring(content, encoding="unicode")
                else:
                    data.append(content)
                etree.SubElement(record, f"{z}recordPosition").text = str(position)
        if diag is not None:
            diagnostics = etree.SubElement(root, f"{z}diagnostics")
            d = etree.SubElement(diagnostics, f"{{{diag_ns}}}diagnostic", nsmap={"diag": diag_ns})
            etree.SubElement(d, f"{{{diag_ns}}}uri").text = f"info:srw/diagnostic/1/{diag.code}"
            etree.SubElement(d, f"{{{diag_ns}}}details").text = diag.details
            etree.SubElement(d, f"{{{diag_ns}}}message").text = diag.message
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
