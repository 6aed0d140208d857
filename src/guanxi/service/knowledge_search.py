"""Finding knowledge articles: the search box (every word of the query, as a substring) and the suggestions shown while
a ticket is typed (articles sharing the most words with the ticket's subject and description).

Both read the revisions a user may see (knowledge_selectors.revision_queryset) through the bigram indexes of
migration 0005_knowledge (guanxi.core.textsearch): 电费 is found in 关于电费缴纳的说明, 95598 or APP in mixed text.
Ranking: articles whose title holds the query come first, then those where it is only in the body; within each group
the earlier and more often the terms appear, the better. Registers the global search kind "articles".
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db import connections, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import pgettext_lazy

from guanxi.core import search, textsearch
from guanxi.service.knowledge_selectors import revision_queryset
from guanxi.service.models import ArticleRevision

SEARCH_LIMIT = 20
SUGGEST_LIMIT = 5
SUGGEST_MAX_WORDS = 16  # bigrams and words of a ticket's text looked up at once
SUGGEST_CANDIDATES = 200  # revisions read and scored in Python
SUGGEST_POOL = 2000  # PostgreSQL: index matches taken before the scope narrows them to SUGGEST_CANDIDATES
SUGGEST_MIN_TEXT = 2


@dataclass(frozen=True)
class ArticleHit:
    revision: ArticleRevision
    in_title: bool
    score: float

    @property
    def article_id(self) -> int:
        return self.revision.article_id

    @property
    def is_draft(self) -> bool:
        return self.revision.number is None

    def snippet(self, terms, width: int = 60) -> str:
        """A piece of the body around the first term found, for the result list."""
        body = " ".join(self.revision.body.split())
        folded = body.lower()
        positions = [folded.find(term.lower()) for term in terms if term and folded.find(term.lower()) >= 0]
        start = max(0, min(positions) - width // 3) if positions else 0
        piece = body[start : start + width]
        return ("…" if start else "") + piece + ("…" if start + width < len(body) else "")


# What a hit shows and ranks by: compiling every column of the revision, its article and its category (and reading
# search_text, the title and body again) was most of the global search's "articles" Python time.
HIT_FIELDS = ("id", "article_id", "number", "title", "body", "category_id", "category__name")


def _revisions(user) -> QuerySet[ArticleRevision]:
    return revision_queryset(user=user).select_related("category").only(*HIT_FIELDS)


def article_search(*, user, q: str, limit: int = SEARCH_LIMIT) -> list[ArticleHit]:
    """Articles (published, plus the drafts `user` may see) holding every word of `q` in their title or text,
    title matches first. Two queries: the title matches, then the text matches."""
    terms = list(search.parse(q).terms)
    if not terms:
        return []
    revisions = _revisions(user)
    by_title = textsearch.substring_matches(revisions, "title", terms, limit)
    hits = [ArticleHit(r, True, _score(r.title, terms) * 10 + _score(r.body, terms)) for r in by_title]
    if len(hits) < limit:
        rest = revisions.exclude(pk__in=[r.pk for r in by_title])
        by_text = textsearch.substring_matches(rest, "search_text", terms, limit - len(hits))
        hits += [ArticleHit(r, False, _score(r.body, terms)) for r in by_text]
    return _best_per_article(hits, limit)


def article_suggestions(*, user, text: str, limit: int = SUGGEST_LIMIT) -> list[ArticleHit]:
    """Articles that share the most words with a ticket being typed (its subject and description).

    The text is cut into words (Latin letters and digits) and overlapping Chinese bigrams; one query finds the
    revisions containing any of them, and each is scored by the distinct words it holds (title words count
    triple). An article needs two shared words (or one, when the text has only one).
    """
    words = suggestion_words(text)
    if not words:
        return []
    candidates = _containing_any(_revisions(user), "search_text", words, SUGGEST_CANDIDATES)
    needed = min(2, len(words))
    hits = []
    for revision in candidates:
        title, body = revision.title.lower(), revision.body.lower()
        in_title = [word for word in words if word in title]
        in_body = [word for word in words if word in body and word not in in_title]
        if len(in_title) + len(in_body) >= needed:
            hits.append(ArticleHit(revision, bool(in_title), 3 * len(in_title) + len(in_body)))
    hits.sort(key=lambda hit: (-hit.score, -hit.revision.article_id))
    return _best_per_article(hits, limit, keep_order=True)


_WORD = re.compile(r"[0-9a-z]{2,}|[\u3400-\u9fff]{2,}")
# Bigrams that carry no subject in a customer's words: a suggestion must not rest on them.
_STOP_BIGRAMS = frozenset(
    {
        "我们",
        "你们",
        "他们",
        "一下",
        "一个",
        "这个",
        "那个",
        "什么",
        "怎么",
        "没有",
        "可以",
        "是否",
        "已经",
        "还是",
        "但是",
        "因为",
        "所以",
        "如果",
        "现在",
        "今天",
        "昨天",
        "客户",
        "用户",
        "反映",
        "表示",
        "询问",
        "咨询",
        "问题",
        "情况",
        "请问",
        "需要",
        "希望",
        "要求",
        "的是",
        "了一",
        "不是",
        "就是",
        "我的",
        "我家",
        "家里",
        "的话",
    }
)


def suggestion_words(text: str) -> list[str]:
    """The words of a ticket's text worth looking up, lower-cased, in order of appearance, at most SUGGEST_MAX_WORDS:
    Latin/digit words of two or more characters (95598, app) and the bigrams of each Chinese run."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    words: list[str] = []
    for match in _WORD.finditer(folded):
        run = match.group()
        if run.isascii():
            words.append(run)
            continue
        words.extend(run[i : i + 2] for i in range(len(run) - 1))
    unique = [word for word in dict.fromkeys(words) if word not in _STOP_BIGRAMS]
    return unique[:SUGGEST_MAX_WORDS]


def _containing_any(queryset: QuerySet, column: str, words: list[str], limit: int) -> list:
    """At most `limit` rows of `queryset` whose `column` contains at least one of `words` (one query, indexed)."""
    vendor = connections[queryset.db].vendor
    if vendor == "postgresql":
        # The ids of up to SUGGEST_POOL revisions holding any bigram of any word, from the GIN index alone, then the
        # scoped query over them. guanxi_bigrams() over a whole article costs milliseconds per row (a plpgsql loop)
        # and the planner cannot know it: asked directly (one @> per word, or one && joined with the scope), it
        # scanned and computed it row by row: 15-32 s over 20,000 articles; this way 77 ms. The overlap is looser for
        # words longer than two characters; article_suggestions checks every word as a substring anyway.
        grams = sorted({word[i : i + 2] for word in words for i in range(len(word) - 1)})
        table = queryset.model._meta.db_table
        with transaction.atomic(using=queryset.db), connections[queryset.db].cursor() as cursor:
            # Only a bitmap scan of the GIN index is left to the planner, for this one query.
            cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
            try:
                cursor.execute(
                    f'SELECT id FROM "{table}" WHERE guanxi_bigrams("{column}") && %s::text[] LIMIT {SUGGEST_POOL}',  # noqa: S608
                    [grams],
                )
                ids = [row[0] for row in cursor.fetchall()]
            finally:
                cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
        return list(queryset.filter(pk__in=ids)[:limit])
    if vendor == "sqlite":
        table = textsearch.sqlite_fts_table(queryset.model._meta.db_table, column)
        match = " OR ".join(textsearch.fts_phrase(word) for word in words)
        return list(
            # the table name is ours (model metadata), the MATCH expression a parameter
            queryset.filter(pk__in=RawSQL(f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH %s', [match]))[:limit]  # noqa: S608, S611
        )
    condition = Q()
    for word in words:
        condition |= Q(**{f"{column}__icontains": word})
    return list(queryset.filter(condition)[:limit])


def _score(text: str, terms) -> float:
    """More occurrences and an earlier first occurrence score higher."""
    folded = text.lower()
    total = 0.0
    for term in terms:
        term = term.lower()
        count = folded.count(term)
        if count:
            total += min(count, 5) + 1 / (1 + folded.find(term))
    return total


def _best_per_article(hits: list[ArticleHit], limit: int, keep_order: bool = False) -> list[ArticleHit]:
    """One hit per article (an author's draft and the published version may both match), best first."""
    if not keep_order:
        hits = sorted(hits, key=lambda hit: (not hit.in_title, -hit.score, -hit.revision.article_id))
    seen: set[int] = set()
    best = []
    for hit in hits:
        if hit.article_id in seen:
            continue
        seen.add(hit.article_id)
        best.append(hit)
    return best[:limit]


def search_articles(*, user, q: str, limit: int) -> list[search.SearchHit]:
    """The global search kind "articles"."""
    terms = list(search.parse(q).terms)
    url = search.detail_urls("service:kb:detail")
    return [
        search.SearchHit(
            id=hit.article_id,
            title=hit.revision.title,
            subtitle=" · ".join(
                part
                for part in (hit.revision.category.name if hit.revision.category_id else "", hit.snippet(terms))
                if part
            ),
            url=url(hit.article_id),
            match="title" if hit.in_title else "text",
        )
        for hit in article_search(user=user, q=q, limit=limit)
    ]


search.register(
    search.SearchKind("articles", pgettext_lazy("search kind", "Knowledge articles"), search_articles, order=45)
)
