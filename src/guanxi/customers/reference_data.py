"""Seed data: the customer category trees of REQUIREMENTS A1 and regions (GB/T 2260 codes).

Loaded by a data migration; admins edit both in the back office afterwards.
Each entry: (code, name, English name, children).
"""

CATEGORIES = [
    (
        "POWER",
        "电力客户",
        "Power customers",
        [
            ("P-LI", "大工业", "Large industry", []),
            (
                "P-GCI",
                "一般工商业",
                "General commercial and industrial",
                [
                    ("P-GCI-COM", "商业", "Commercial", []),
                    ("P-GCI-IND", "非普工业", "Small industry", []),
                ],
            ),
            (
                "P-RES",
                "居民",
                "Residential",
                [
                    ("P-RES-URB", "城镇居民", "Urban residents", []),
                    ("P-RES-RUR", "乡村居民", "Rural residents", []),
                ],
            ),
            ("P-AGR", "农业", "Agricultural", []),
        ],
    ),
    (
        "GAS",
        "燃气客户",
        "Gas customers",
        [
            ("G-RES", "居民用气", "Residential gas", []),
            (
                "G-CNG",
                "车用CNG",
                "Vehicle CNG",
                [
                    ("G-CNG-PRV", "私家车", "Private cars", []),
                    ("G-CNG-GOV", "公务车", "Official vehicles", []),
                    ("G-CNG-BUS", "公交公司", "Bus companies", []),
                ],
            ),
            ("G-IND", "工业", "Industrial", []),
            ("G-PUB", "公福", "Public welfare", []),
            ("G-POT", "潜在待开发", "Potential, to develop", []),
        ],
    ),
    (
        "TELECOM",
        "电信客户",
        "Telecom customers",
        [
            (
                "T-GRP",
                "集团客户",
                "Group customers",
                [
                    ("T-GRP-5", "五星级集团客户", "Five-star group customers", []),
                    ("T-GRP-4", "四星级集团客户", "Four-star group customers", []),
                    ("T-GRP-3", "三星级集团客户", "Three-star group customers", []),
                    ("T-GRP-2", "二星级集团客户", "Two-star group customers", []),
                    ("T-GRP-1", "一星级集团客户", "One-star group customers", []),
                ],
            ),
            ("T-IND", "个人客户", "Individual customers", []),
        ],
    ),
]

_PROVINCES = [
    ("110000", "北京市", "Beijing"),
    ("120000", "天津市", "Tianjin"),
    ("130000", "河北省", "Hebei"),
    ("140000", "山西省", "Shanxi"),
    ("150000", "内蒙古自治区", "Inner Mongolia"),
    ("210000", "辽宁省", "Liaoning"),
    ("220000", "吉林省", "Jilin"),
    ("230000", "黑龙江省", "Heilongjiang"),
    ("310000", "上海市", "Shanghai"),
    ("320000", "江苏省", "Jiangsu"),
    ("330000", "浙江省", "Zhejiang"),
    ("340000", "安徽省", "Anhui"),
    ("350000", "福建省", "Fujian"),
    ("360000", "江西省", "Jiangxi"),
    ("370000", "山东省", "Shandong"),
    ("410000", "河南省", "Henan"),
    ("420000", "湖北省", "Hubei"),
    ("430000", "湖南省", "Hunan"),
    ("440000", "广东省", "Guangdong"),
    ("450000", "广西壮族自治区", "Guangxi"),
    ("460000", "海南省", "Hainan"),
    ("500000", "重庆市", "Chongqing"),
    ("510000", "四川省", "Sichuan"),
    ("520000", "贵州省", "Guizhou"),
    ("530000", "云南省", "Yunnan"),
    ("540000", "西藏自治区", "Tibet"),
    ("610000", "陕西省", "Shaanxi"),
    ("620000", "甘肃省", "Gansu"),
    ("630000", "青海省", "Qinghai"),
    ("640000", "宁夏回族自治区", "Ningxia"),
    ("650000", "新疆维吾尔自治区", "Xinjiang"),
    ("710000", "台湾省", "Taiwan"),
    ("810000", "香港特别行政区", "Hong Kong"),
    ("820000", "澳门特别行政区", "Macao"),
]

# province code → [(city code, name, English name, [(district code, name, English name)])]
_CITIES = {
    "230000": [
        (
            "230100",
            "哈尔滨市",
            "Harbin",
            [
                ("230102", "道里区", "Daoli"),
                ("230103", "南岗区", "Nangang"),
                ("230104", "道外区", "Daowai"),
                ("230108", "平房区", "Pingfang"),
                ("230109", "松北区", "Songbei"),
                ("230110", "香坊区", "Xiangfang"),
            ],
        ),
        (
            "230200",
            "齐齐哈尔市",
            "Qiqihar",
            [
                ("230202", "龙沙区", "Longsha"),
                ("230203", "建华区", "Jianhua"),
                ("230204", "铁锋区", "Tiefeng"),
                ("230205", "昂昂溪区", "Ang'angxi"),
                ("230206", "富拉尔基区", "Fularji"),
                ("230207", "碾子山区", "Nianzishan"),
                ("230208", "梅里斯达斡尔族区", "Meilisi"),
            ],
        ),
        (
            "230600",
            "大庆市",
            "Daqing",
            [
                ("230602", "萨尔图区", "Sartu"),
                ("230603", "龙凤区", "Longfeng"),
                ("230604", "让胡路区", "Ranghulu"),
            ],
        ),
    ],
    "110000": [
        (
            "110100",
            "北京城区",
            "Beijing city",
            [
                ("110101", "东城区", "Dongcheng"),
                ("110102", "西城区", "Xicheng"),
                ("110105", "朝阳区", "Chaoyang"),
                ("110108", "海淀区", "Haidian"),
            ],
        ),
    ],
    "310000": [
        (
            "310100",
            "上海城区",
            "Shanghai city",
            [
                ("310101", "黄浦区", "Huangpu"),
                ("310104", "徐汇区", "Xuhui"),
                ("310115", "浦东新区", "Pudong"),
            ],
        ),
    ],
    "320000": [
        (
            "320100",
            "南京市",
            "Nanjing",
            [
                ("320102", "玄武区", "Xuanwu"),
                ("320104", "秦淮区", "Qinhuai"),
                ("320105", "建邺区", "Jianye"),
                ("320106", "鼓楼区", "Gulou"),
            ],
        ),
        (
            "320500",
            "苏州市",
            "Suzhou",
            [
                ("320505", "虎丘区", "Huqiu"),
                ("320506", "吴中区", "Wuzhong"),
                ("320508", "姑苏区", "Gusu"),
            ],
        ),
    ],
    "330000": [
        ("330100", "杭州市", "Hangzhou", [("330102", "上城区", "Shangcheng"), ("330106", "西湖区", "Xihu")]),
    ],
    "440000": [
        (
            "440100",
            "广州市",
            "Guangzhou",
            [
                ("440103", "荔湾区", "Liwan"),
                ("440104", "越秀区", "Yuexiu"),
                ("440106", "天河区", "Tianhe"),
            ],
        ),
        (
            "440300",
            "深圳市",
            "Shenzhen",
            [
                ("440303", "罗湖区", "Luohu"),
                ("440304", "福田区", "Futian"),
                ("440305", "南山区", "Nanshan"),
            ],
        ),
    ],
}


def regions() -> list[tuple[str, str, str, str, str | None]]:
    """Flat list of (code, name, English name, level, parent code), parents first."""
    rows = []
    for code, name, name_en in _PROVINCES:
        rows.append((code, name, name_en, "province", None))
        for city_code, city, city_en, districts in _CITIES.get(code, []):
            rows.append((city_code, city, city_en, "city", code))
            rows.extend((d_code, d_name, d_en, "district", city_code) for d_code, d_name, d_en in districts)
    return rows


def categories() -> list[tuple[str, str, str, str, str | None]]:
    """Flat list of (code, name, English name, industry, parent code), parents first."""
    rows = []

    def walk(nodes, industry, parent):
        for code, name, name_en, children in nodes:
            rows.append((code, name, name_en, industry or code.lower(), parent))
            walk(children, industry or code.lower(), code)

    walk(CATEGORIES, None, None)
    return rows
