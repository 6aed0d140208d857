"""Locust users for bench/load.py: account managers working their own customers (run through load.py, not alone).

The mix (task weights): customer list 40 (a quarter of them the next page), 360 view 25, search 15, create 5 and
update 15 (create/update 20). Each simulated user takes one account manager's token and the ids, versions and search
terms load.py prepared for that manager (LOAD_CONFIG, a JSON file). LOAD_TARGET=floor sends the same mix to the
floor (bench/floor): its ORM list, the replayed statements of a 360 view and of a search, its write endpoints.
"""

import itertools
import json
import os
import random
from urllib.parse import urlencode

from locust import FastHttpUser, between, task

with open(os.environ["LOAD_CONFIG"], encoding="utf-8") as handle:
    CONFIG = json.load(handle)
FLOOR = os.environ.get("LOAD_TARGET", "guanxi") == "floor"
GRADES = ["", "", "key", "potential", "general"]
_numbering = itertools.count()


class AccountManager(FastHttpUser):
    wait_time = between(*CONFIG["wait"])

    def on_start(self) -> None:
        number = next(_numbering)
        self.me = CONFIG["users"][number % len(CONFIG["users"])]
        self.rng = random.Random(number)
        self.headers = {} if FLOOR else {"Authorization": f"Bearer {self.me['token']}"}
        self.versions = {int(k): v for k, v in self.me["versions"].items()}
        self.ids = list(self.versions)
        self.created = 0

    # -- reads ---------------------------------------------------------------------------------------------------

    @task(40)
    def customer_list(self) -> None:
        grade = self.rng.choice(GRADES)
        if FLOOR:
            query = {"owner": self.me["id"], "sensitive": "false", "limit": 50}
            path = "/api/customers"
        else:
            query = {"ordering": "name", "limit": 50}
            path = "/api/v1/customers"
        if grade:
            query["grade"] = grade
        response = self.client.get(f"{path}?{urlencode(query)}", headers=self.headers, name="list")
        page = response.json() if response.status_code == 200 else None
        if page and page["next"] and self.rng.random() < 0.25:
            query["cursor"] = page["next"]
            self.client.get(f"{path}?{urlencode(query)}", headers=self.headers, name="list, next page")

    @task(25)
    def customer_360(self) -> None:
        if FLOOR:
            index = self.rng.randrange(CONFIG["replay_sizes"]["overview"])
            self.client.get(f"/api/replay/overview?i={index}", name="360 view")
            return
        customer_id = self.rng.choice(self.ids)
        self.client.get(f"/api/v1/customers/{customer_id}/overview", headers=self.headers, name="360 view")

    @task(15)
    def search(self) -> None:
        if FLOOR:
            index = self.rng.randrange(CONFIG["replay_sizes"]["search"])
            self.client.get(f"/api/replay/search?i={index}", name="search")
            return
        query = urlencode({"q": self.rng.choice(self.me["terms"]), "limit": 10})
        self.client.get(f"/api/v1/search?{query}", headers=self.headers, name="search")

    # -- writes --------------------------------------------------------------------------------------------------

    @task(5)
    def create(self) -> None:
        self.created += 1
        # A name like a real one (one of the manager's customers with one character more): the duplicate check does
        # its usual work, not a scan of the test's own names.
        base = self.rng.choice(self.me["names"])
        name = base[:2] + "华新博盛源达通瑞丰泰恒嘉"[self.created % 12] + base[2:]
        address = f"压测路{self.created}号"
        if FLOOR:
            body = {"name": name, "address": address, "branch": self.me["branch"], "actor_id": self.me["id"]}
            self.client.post("/api/customers", json=body, name="create")
            return
        body = {"name": name, "kind": "organisation", "address": address, "region_id": self.me["region_id"]}
        self.client.post("/api/v1/customers", json=body, headers=self.headers, name="create")

    @task(15)
    def update(self) -> None:
        customer_id = self.rng.choice(self.ids)
        body = {"version": self.versions[customer_id], "address": f"建设路{self.rng.randint(1, 9999)}号"}
        if FLOOR:
            body["actor_id"] = self.me["id"]
            path = f"/api/customers/{customer_id}"
        else:
            path = f"/api/v1/customers/{customer_id}"
        response = self.client.request("PATCH", path, json=body, headers=self.headers, name="update")
        if response.status_code == 200:
            self.versions[customer_id] = response.json()["version"]
