"""Guanxi's customer tables as unmanaged models: only the columns the two endpoints return."""

from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100)

    class Meta:
        managed = False
        db_table = "customers_category"

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    name = models.CharField(max_length=100)
    path = models.CharField(max_length=255)

    class Meta:
        managed = False
        db_table = "customers_region"

    def __str__(self) -> str:
        return self.name


class User(models.Model):
    username = models.CharField(max_length=150)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)

    class Meta:
        managed = False
        db_table = "auth_user"

    def __str__(self) -> str:
        return self.username


class Tag(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        managed = False
        db_table = "customers_tag"

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    number = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16)
    category = models.ForeignKey(Category, null=True, on_delete=models.DO_NOTHING, related_name="+")
    region = models.ForeignKey(Region, null=True, on_delete=models.DO_NOTHING, related_name="+")
    area = models.CharField(max_length=8)
    address = models.CharField(max_length=300)
    credit_code = models.CharField(max_length=18, null=True)
    id_number = models.CharField(max_length=18, null=True)
    parent_id = models.BigIntegerField(null=True)
    stage = models.CharField(max_length=16)
    grade = models.CharField(max_length=16)
    vip = models.BooleanField()
    sensitive = models.BooleanField()
    tags = models.ManyToManyField(Tag, db_table="customers_customer_tags", related_name="+")
    owner = models.ForeignKey(User, null=True, on_delete=models.DO_NOTHING, related_name="+")
    org_unit_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True)
    merged_into_id = models.BigIntegerField(null=True)
    version = models.IntegerField()

    class Meta:
        managed = False
        db_table = "customers_customer"

    def __str__(self) -> str:
        return self.name
