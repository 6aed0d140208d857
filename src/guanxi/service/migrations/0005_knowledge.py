"""The knowledge base: categories, tags, articles and their revisions, ticket links and "did this help?" votes.

The revisions' title and search_text get the bigram substring index customer names use (guanxi.core.textsearch):
a GIN index on guanxi_bigrams(column) on PostgreSQL, an FTS5 bigram table kept by triggers on SQLite. search_text
holds a whole article (up to 10,000 characters of body), longer than the 1,000 positions the SQLite triggers cut
names with, so the shared positions table is extended to SEARCH_MAX_POSITION (more rows change nothing for the
shorter columns already indexed).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from guanxi.core import textsearch

TABLE = "service_articlerevision"
INDEXES = {"title": "article_revision_title_bigram_idx", "search_text": "article_revision_text_bigram_idx"}
SEARCH_MAX_POSITION = 10_300  # guanxi.service.models.knowledge.SEARCH_MAX_POSITION when this migration was written


def extend_sqlite_positions(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        positions = textsearch.SQLITE_POSITIONS_TABLE
        numbers = f"WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < {SEARCH_MAX_POSITION})"  # noqa: S608
        schema_editor.execute(f'INSERT OR IGNORE INTO "{positions}" (n) {numbers} SELECT n FROM p', params=None)  # noqa: S608


def shrink_sqlite_positions(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f'DELETE FROM "{textsearch.SQLITE_POSITIONS_TABLE}" WHERE n > {textsearch.SQLITE_MAX_POSITION}',  # noqa: S608
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0004_return_visits"),
        ("customers", "0004_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ArticleTag",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50, unique=True, verbose_name="name")),
            ],
            options={
                "verbose_name": "article tag",
                "verbose_name_plural": "article tags",
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="ArticleCategory",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("path", models.CharField(db_index=True, default="", editable=False, max_length=255)),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="position")),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="children",
                        to="service.articlecategory",
                        verbose_name="parent",
                    ),
                ),
            ],
            options={
                "verbose_name": "article category",
                "verbose_name_plural": "article categories",
                "ordering": ["path"],
            },
        ),
        migrations.CreateModel(
            name="Article",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "visibility",
                    models.CharField(
                        choices=[
                            ("internal", "Internal (staff only)"),
                            ("customers", "Customers (self-service portal)"),
                        ],
                        default="internal",
                        max_length=16,
                        verbose_name="visibility",
                    ),
                ),
                ("published_at", models.DateTimeField(blank=True, null=True, verbose_name="published at")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                ("version", models.PositiveIntegerField(default=1, verbose_name="version")),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="articles",
                        to="service.articlecategory",
                        verbose_name="category",
                    ),
                ),
            ],
            options={
                "verbose_name": "knowledge article",
                "verbose_name_plural": "knowledge articles",
                "permissions": [("review_article", "Can approve or reject knowledge articles")],
            },
        ),
        migrations.CreateModel(
            name="ArticleRevision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "number",
                    models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name="version number"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("in_review", "In review"),
                            ("rejected", "Rejected"),
                            ("published", "Published"),
                        ],
                        default="draft",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                ("body", models.TextField(max_length=10000, verbose_name="body")),
                ("search_text", models.TextField(default="", editable=False)),
                (
                    "visibility",
                    models.CharField(
                        choices=[
                            ("internal", "Internal (staff only)"),
                            ("customers", "Customers (self-service portal)"),
                        ],
                        default="internal",
                        max_length=16,
                        verbose_name="visibility",
                    ),
                ),
                ("tag_names", models.JSONField(blank=True, default=list, verbose_name="tags")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                ("submitted_at", models.DateTimeField(blank=True, null=True, verbose_name="submitted at")),
                ("reviewed_at", models.DateTimeField(blank=True, null=True, verbose_name="reviewed at")),
                ("review_comment", models.TextField(blank=True, max_length=2000, verbose_name="review comment")),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="revisions",
                        to="service.article",
                        verbose_name="article",
                    ),
                ),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="service.articlecategory",
                        verbose_name="category",
                    ),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reviewed by",
                    ),
                ),
            ],
            options={
                "verbose_name": "article revision",
                "verbose_name_plural": "article revisions",
            },
        ),
        migrations.AddField(
            model_name="article",
            name="current",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="published_of",
                to="service.articlerevision",
                verbose_name="current version",
            ),
        ),
        migrations.AddField(
            model_name="article",
            name="draft",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="draft_of",
                to="service.articlerevision",
                verbose_name="draft",
            ),
        ),
        migrations.AddField(
            model_name="article",
            name="tags",
            field=models.ManyToManyField(
                blank=True, related_name="articles", to="service.articletag", verbose_name="tags"
            ),
        ),
        migrations.CreateModel(
            name="ArticleVote",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("helpful", models.BooleanField(verbose_name="helpful")),
                ("voted_at", models.DateTimeField(auto_now=True, verbose_name="voted at")),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="votes",
                        to="service.article",
                        verbose_name="article",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="service.ticket",
                        verbose_name="ticket",
                    ),
                ),
                (
                    "voter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="voter",
                    ),
                ),
            ],
            options={
                "verbose_name": "article vote",
                "verbose_name_plural": "article votes",
            },
        ),
        migrations.CreateModel(
            name="TicketArticle",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("linked_at", models.DateTimeField(auto_now_add=True, verbose_name="linked at")),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ticket_links",
                        to="service.article",
                        verbose_name="article",
                    ),
                ),
                (
                    "linked_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="linked by",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="article_links",
                        to="service.ticket",
                        verbose_name="ticket",
                    ),
                ),
            ],
            options={
                "verbose_name": "ticket article",
                "verbose_name_plural": "ticket articles",
            },
        ),
        migrations.AddConstraint(
            model_name="articlecategory",
            constraint=models.UniqueConstraint(fields=("parent", "name"), name="article_category_unique_name"),
        ),
        migrations.AddConstraint(
            model_name="articlerevision",
            constraint=models.UniqueConstraint(fields=("article", "number"), name="article_revision_unique_number"),
        ),
        migrations.AddConstraint(
            model_name="articlerevision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("number__isnull", False), ("status", "published")),
                    models.Q(models.Q(("status", "published"), _negated=True), ("number__isnull", True)),
                    _connector="OR",
                ),
                name="article_revision_number_iff_published",
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                condition=models.Q(("current__isnull", False)),
                fields=["-published_at", "-id"],
                name="article_published_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="articlevote",
            constraint=models.UniqueConstraint(
                fields=("article", "ticket", "voter"), name="article_vote_one_per_user_ticket"
            ),
        ),
        migrations.AddIndex(
            model_name="ticketarticle",
            index=models.Index(fields=["article", "ticket"], name="ticket_article_by_article_idx"),
        ),
        migrations.AddConstraint(
            model_name="ticketarticle",
            constraint=models.UniqueConstraint(fields=("ticket", "article"), name="ticket_article_unique"),
        ),
        migrations.RunPython(extend_sqlite_positions, shrink_sqlite_positions, elidable=False),
        textsearch.BigramIndexes([(TABLE, column, index) for column, index in INDEXES.items()], existing_rows=False),
    ]
