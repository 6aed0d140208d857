"""Trees stored with a materialised path, so "this node and everything below" is one indexed prefix scan."""

from django.core.cache import cache
from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _


class TreeNode(models.Model):
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")  # "/1/4/9/"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        old = self.path
        path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if path == old:
            return
        if self.parent_id and self.pk in self.parent.ancestor_ids():
            raise ValueError("a node cannot be moved below itself")
        self.path = path
        nodes = type(self).objects
        nodes.filter(pk=self.pk).update(path=path)
        if old:  # a move: re-root the descendants' paths too
            nodes.filter(path__startswith=old).exclude(pk=self.pk).update(
                path=Concat(Value(path), Substr("path", len(old) + 1))
            )

    def subtree_ids(self) -> list[int]:
        return list(type(self).objects.filter(path__startswith=self.path).values_list("id", flat=True))

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


# Subtrees (regions, categories, org units) are read on every filtered list and change rarely, so they are cached.
# Any save or delete of a tree node drops them all (a generation number): at once in this process and, with Redis,
# in every process; with the embedded per-process cache another process sees the change within SUBTREE_SECONDS.
SUBTREE_SECONDS = 60
_GENERATION = "guanxi:subtrees:generation"


def subtree_ids(model: type[TreeNode], node_id: int) -> list[int]:
    """Ids of node `node_id` and all its descendants; empty if the node does not exist."""
    generation = cache.get(_GENERATION)
    if generation is None:
        cache.add(_GENERATION, 1, timeout=None)
        generation = cache.get(_GENERATION, 1)
    key = f"guanxi:subtree:{generation}:{model._meta.label_lower}:{int(node_id)}"
    ids = cache.get(key)
    if ids is None:
        path = model.objects.filter(pk=node_id).values_list("path", flat=True).first()
        ids = [] if path is None else list(model.objects.filter(path__startswith=path).values_list("id", flat=True))
        cache.set(key, ids, SUBTREE_SECONDS)
    return ids


def forget_subtrees(sender, **kwargs) -> None:
    """Signal receiver: a tree node was saved or deleted somewhere, so no cached subtree is trusted any more."""
    if not (isinstance(sender, type) and issubclass(sender, TreeNode)):
        return
    try:
        cache.incr(_GENERATION)
    except ValueError:  # not set yet (or evicted, or Redis down): the next read starts a fresh generation
        cache.add(_GENERATION, 2, timeout=None)


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(forget_subtrees, dispatch_uid="guanxi.tree.save")
    post_delete.connect(forget_subtrees, dispatch_uid="guanxi.tree.delete")
