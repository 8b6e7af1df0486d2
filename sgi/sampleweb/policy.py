"""The sample web's policy libraries (政策文件 / 规范性文件 / 政府信息公开) and government work reports.

:func:`add_policies` gives eight of the nine sample cities (哈尔滨 has none: the spider must cope) a
policy library on ``xxgk.<city>.gov.cn.test`` with about 27 distinct documents each (216 in all), in
three list pagination styles and three detail templates:

=======  ==========  ===========================================  =========================================
city     paging      detail template                              extras
=======  ==========  ===========================================  =========================================
440300   trs         gkml: gov.cn-style metadata table             PDF + DOCX attachments, 规范性文件 list
330100   query       xxgk: <li><label>索引号：</label><span> list   DOCX attachment, 有效性 field
510100   api         xxgk                                          JSON list API behind a single-page shell
420100   query       xxgk                                          bracket variants [2024] （2024） in 文号
370200   query       gkml                                          gov.cn-style table behind ?page=N lists
450100   trs         gbk: GBK page declared gb2312, td labels      .doc attachment (no text extraction)
620100   trs         gkml                                          —
350200   api         gkml                                          corrupt PDF; 50 MB PDF on file.xm.gov.cn.test
=======  ==========  ===========================================  =========================================

Every city has a work-report list (the latest report, an older one and a 图解 page) and documents with
hard cases: a document that mentions 大数据 once in passing, a notice of a
meeting on smart cities (not a policy), a 政策解读 (not a policy), a 失效 document, reposts (same 文号
at another URL; a near-identical text without 文号), and a title-only match (a 印发 notice whose body is
one sentence). Pages look like real ones: titles built as 关于印发…的通知 / …印发关于…的通知, negatives that
share words with digital terms (政务公开工作要点, “双随机、一公开”抽查), a city department written '市…局'
as its issuer, a 生成日期 beside the 成文日期 (xxgk, GBK). The labelled set (:data:`LABELS`, filled by
:func:`add_policies`: canonical URL → truth categories; an interpretation carries the categories of the
document it explains but is not a policy) is what the classifier is measured on; :data:`ISSUERS` and
:data:`WRITTEN` are the metadata truth. None of it is computed with the crawler's rules or lexicons.

Truth (per city, per year 2021..2026 by published date, and cumulative with the reference date as
period): policy_docs_total (distinct documents that are policies), policy_digital_gov /
policy_digital_ecosystem (documents with a category of that group), policy_cat_<code>,
policy_normative_smart_governance (规范性文件 not 失效/废止 with any category), and
work_report_env_term_freq of the latest report (terms per 10,000 non-whitespace characters of its body).
"""

from __future__ import annotations

import io
import json
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from sgi.sampleweb.model import RequestInfo, Resource, SampleWeb, Site, TruthRow

YEARS = (2021, 2022, 2023, 2024, 2025, 2026)
PAGE_SIZE = 10
BIG_ATTACHMENT_BYTES = 50 * 1024 * 1024
ATTACHMENT_CAP_BYTES = 10 * 1024 * 1024

GROUP = {"dg_overall": "digital_gov", "data_management": "digital_gov", "data_standard": "digital_gov",
         "data_security": "digital_gov", "ip_supervision": "digital_gov", "ip_gov_service": "digital_gov",
         "digital_economy": "digital_ecosystem", "smart_city": "digital_ecosystem", "ai": "digital_ecosystem",
         "big_data": "digital_ecosystem", "ip_industry": "digital_ecosystem", "ip_livelihood": "digital_ecosystem"}
CATS = tuple(GROUP)

# Filled by add_policies: canonical document URL (without port) -> (is_policy, sorted truth categories).
LABELS: dict[str, tuple[bool, tuple[str, ...]]] = {}
# Filled by add_policies: document URL (without port) -> the issuer's full name. Pages write a city
# department the way real pages do, without the city ('市大数据局' on 深圳's site); the reader qualifies it.
ISSUERS: dict[str, str] = {}
# Filled by add_policies: document URL (without port) -> its 成文日期 (pages also show a later 生成日期).
WRITTEN: dict[str, date] = {}


@dataclass
class CitySpec:
    code: str
    name: str            # 深圳
    abbr: str            # 深 (for 文号)
    slug: str
    paging: str          # trs | query | api
    template: str        # gkml | xxgk | gbk
    depts: tuple
    report_title_extra: str = ""   # appended to the latest work report's title (see XSS_PROBE)


# Crawled text is untrusted: one city's work-report title carries markup as *text* (escaped in the
# page), which reaches the audit report through the work report's evidence snippet. Reports must show
# it as text and never run it (tests/test_audit.py). No value depends on a title, so the truth is unchanged.
XSS_PROBE = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">"


CITIES = (
    CitySpec("440300", "深圳", "深", "sz", "trs", "gkml", ("发展改革委", "工业和信息化局", "政务服务数据管理局"),
             report_title_extra=XSS_PROBE),
    CitySpec("330100", "杭州", "杭", "hangzhou", "query", "xxgk", ("数据资源管理局", "经信局", "市场监管局")),
    CitySpec("510100", "成都", "成", "chengdu", "api", "xxgk", ("网络理政办", "新经济委", "经信局")),
    CitySpec("420100", "武汉", "武", "wuhan", "query", "xxgk", ("政务服务和大数据管理局", "经信局", "卫健委")),
    CitySpec("370200", "青岛", "青", "qingdao", "query", "gkml", ("大数据局", "工业和信息化局", "教育局")),
    CitySpec("450100", "南宁", "南", "nanning", "trs", "gbk", ("大数据发展局", "工业和信息化局", "民政局")),
    CitySpec("620100", "兰州", "兰", "lanzhou", "trs", "gkml", ("大数据管理局", "工信局", "农业农村局")),
    CitySpec("350200", "厦门", "厦", "xm", "api", "gkml", ("信息化局", "工信局", "医保局")),
)

# --- content -------------------------------------------------------------------------------------
# Titles: {c} city name. Bodies: focused paragraphs (several terms of the category) and passing
# sentences (one term, as a means to another end).
TITLES = {
    "dg_overall": ["{c}市人民政府关于印发{c}市数字政府建设“十四五”规划的通知", "关于加快推进数字政府建设的实施意见", "{c}市数字政府建设三年行动方案（2024—2026年）",
                   "关于深化政府数字化转型的若干措施", "{c}市电子政务项目建设管理办法"],
    "data_management": ["{c}市公共数据管理办法", "关于推进政务数据共享开放的实施意见", "{c}市人民政府办公厅关于印发{c}市首席数据官制度试点工作方案的通知",
                        "{c}市公共数据资源目录管理规定", "关于加强政务数据归集治理的通知"],
    "data_standard": ["{c}市政务数据标准规范管理办法", "关于印发公共数据元标准的通知", "{c}市数据标准体系建设指南",
                      "{c}市政务数据质量管理规范", "{c}市数据元标准管理规定"],
    "data_security": ["{c}市公共数据安全管理办法", "关于加强政务数据安全保护工作的通知", "{c}市数据分类分级管理实施细则",
                      "{c}市网络安全事件应急预案", "关于做好关键信息基础设施网络安全保护的通知"],
    "ip_supervision": ["{c}市“互联网+监管”系统建设实施方案", "关于依托“互联网+监管”系统推行“双随机、一公开”监管的实施意见",
                       "{c}市“互联网+监管”平台数据汇聚和运行管理办法", "关于推进非现场监管工作的指导意见", "{c}市智慧监管平台运行管理办法"],
    "ip_gov_service": ["关于深化“互联网+政务服务”推进“一网通办”的实施意见", "{c}市推进政务服务“跨省通办”工作方案",
                       "关于推行高效办成一件事的实施方案", "{c}市人民政府办公厅印发关于{c}市电子证照应用管理办法的通知", "{c}市政务服务“好差评”管理办法"],
    "digital_economy": ["{c}市数字经济发展规划（2021—2025年）", "关于加快数字经济高质量发展的若干措施",
                        "{c}市促进平台经济规范健康发展实施方案", "{c}市人民政府关于印发{c}市推动产业数字化转型行动计划的通知", "关于支持数字贸易发展的若干政策"],
    "smart_city": ["{c}市新型智慧城市建设行动计划", "关于推进城市大脑建设的实施意见", "{c}市人民政府办公厅关于印发{c}市“一网统管”建设实施方案的通知",
                   "{c}市数字孪生城市建设工作方案", "关于推进智慧社区建设的指导意见"],
    "ai": ["{c}市促进人工智能产业发展若干措施", "关于加快大模型创新应用的实施方案", "{c}市人工智能赋能千行百业行动计划",
           "关于推动智能算力基础设施建设的通知", "{c}市建设国家新一代人工智能创新发展试验区实施方案"],
    "big_data": ["{c}市大数据发展行动计划", "关于促进大数据产业高质量发展的若干政策", "{c}市大数据中心建设管理办法",
                 "关于推进大数据应用创新的实施意见", "{c}市大数据产业园区认定管理办法"],
    "ip_industry": ["{c}市工业互联网创新发展行动计划", "关于推进“互联网+先进制造业”发展的实施意见", "{c}市工业和信息化局关于印发{c}市智能制造示范工厂认定办法的通知",
                    "关于加快农村电商高质量发展的通知", "{c}市推进企业上云用云实施方案"],
    "ip_livelihood": ["关于推进“互联网+医疗健康”发展的实施意见", "{c}市智慧教育示范区建设方案", "{c}市互联网医院管理办法（试行）",
                      "关于发展智慧健康养老产业的实施意见", "{c}市推进“互联网+社会服务”行动方案"],
}
FOCUS = {
    "dg_overall": ["坚持整体协同、系统推进，以数字政府建设为牵引，全面推进政府履职数字化、智能化水平提升，构建数字机关与数字政府协同发展的工作格局。",
                   "统筹全市政务信息化项目，推动政务云集约化建设，建立数字政府建设项目统一规划、统一审核、统一验收机制，加快政府数字化转型。",
                   "到2026年，数字政府建设取得重要进展，电子政务基础设施更加完善，整体智治能力显著增强。"],
    "data_management": ["健全公共数据管理制度，明确公共数据资源的采集、归集、共享、开放和利用规则，全面推进政务数据归集和数据治理。",
                        "编制公共数据资源目录，建立政务数据共享责任清单，依托市级共享交换平台实现数据共享按需调用，稳步扩大数据开放范围。",
                        "推行首席数据官制度，由各部门明确一名负责同志担任首席数据官，统筹本部门政务数据管理工作。"],
    "data_standard": ["制定数据标准管理规则，统一数据元、元数据和数据编码规则，建立覆盖数据采集、存储、交换的数据标准体系。",
                      "建立数据质量监测评估机制，对不符合数据标准的数据及时反馈整改，持续提升数据质量，编制全市统一的数据字典。",
                      "鼓励相关单位参与地方标准制定，推动数据标准在政务领域全面落地应用。"],
    "data_security": ["坚持发展与安全并重，落实数据安全主体责任，建立数据分类分级保护制度，对重要数据实施重点保护。",
                      "严格落实网络安全等级保护和密码应用安全性评估要求，加强个人信息保护，定期开展数据安全风险评估和应急演练。",
                      "强化关键信息基础设施安全防护，健全网络和数据安全监测预警和通报处置机制。"],
    "ip_supervision": ["依托“互联网+监管”系统，汇聚监管数据，全面推行“双随机、一公开”监管，实现监管事项全覆盖、监管过程全记录。",
                       "建立以信用监管为基础的新型监管机制，依托“互联网+监管”平台归集监管数据和信用信息，根据企业信用等级实施差异化监管，推进非现场监管、在线监管和智慧监管。",
                       "强化监管平台风险预警功能，对新业态实行包容审慎监管。"],
    "ip_gov_service": ["深化“互联网+政务服务”，推进政务服务事项“一网通办”，实现高频事项全程网办、跨省通办。",
                       "推行“一件事一次办”，整合办事环节，推广电子证照应用，开展政务服务“好差评”，让企业和群众办事最多跑一次。",
                       "优化一窗受理服务模式，推动更多事项秒批秒办。"],
    "digital_economy": ["做大做强数字经济核心产业，推进数字产业化和产业数字化，培育一批具有国际竞争力的数字产业集群。",
                        "推动平台经济规范健康发展，支持数字贸易创新，发展软件和信息服务业，力争数字经济核心产业增加值占地区生产总值比重持续提高。",
                        "加快传统产业数字化转型，推动集成电路等重点产业链强链补链。"],
    "smart_city": ["以新型智慧城市建设为统领，建设城市大脑，推进城市运行“一网统管”，提升城市治理精细化水平。",
                   "构建城市信息模型平台，探索数字孪生城市建设，推进智慧社区和数字城管应用场景落地。",
                   "到2026年，智慧城市建设水平位居全国前列。"],
    "ai": ["加快人工智能核心技术攻关，支持通用大模型和行业大模型研发，建设智能算力中心，打造人工智能产业高地。",
           "推进“人工智能+”行动，开放人工智能应用场景，支持机器人、智能网联汽车和具身智能等产品研发与示范应用。",
           "对人工智能企业研发的算法模型给予备案和测试支持。"],
    "big_data": ["实施大数据发展战略，推进大数据产业集聚发展，建设市级大数据中心，推动大数据应用在各领域深度融合。",
                 "支持大数据企业开展数据采集、数据分析和数据服务，培育大数据产业生态，打造大数据产业示范园区。",
                 "鼓励金融机构为大数据企业提供融资支持。"],
    "ip_industry": ["加快工业互联网平台建设，推进智能制造和两化融合，建设一批智能工厂和数字化车间。",
                    "推动企业上云用云，发展电子商务、农村电商和直播电商，推进数字农业和智慧农业示范。",
                    "支持“互联网+制造”新模式新业态发展。"],
    "ip_livelihood": ["推进“互联网+医疗健康”，发展互联网医院和远程医疗，推广电子社保卡在就医购药中的应用。",
                      "建设智慧教育平台，发展智慧养老和智慧健康养老服务，推进“互联网+社会服务”，让数字惠民成果惠及全体市民。",
                      "推动智慧就业服务平台建设。"],
}
PASSING = {
    "big_data": "运用大数据等技术手段提高工作精准度。",
    "ai": "探索运用人工智能辅助开展相关工作。",
    "smart_city": "相关数据纳入智慧城市平台统一管理。",
    "data_security": "做好网络安全相关工作。",
    "ip_gov_service": "相关事项纳入政务服务事项清单管理。",
    "digital_economy": "结合数字经济发展实际推进相关工作。",
    "dg_overall": "与数字政府建设工作统筹推进。",
    "data_management": "相关信息按规定共享至公共数据平台。",
}
OTHER_TITLES = ["{c}市住房公积金提取管理办法", "关于进一步做好义务教育阶段招生入学工作的通知", "{c}市城乡居民基本医疗保险实施办法",
                "关于加强安全生产工作的若干规定", "{c}市城市绿化管理条例实施细则", "关于做好2026年防汛抗旱工作的通知",
                "{c}市老旧小区改造实施方案", "关于促进个体工商户发展的若干措施", "{c}市养老服务补贴管理办法",
                "关于加强农村人居环境整治的实施意见", "{c}市人才安居办法", "关于进一步规范建设工程招投标管理的通知",
                "{c}市历史文化街区保护办法", "关于做好高校毕业生就业创业工作的通知", "{c}市公共租赁住房管理办法",
                "关于印发{c}市{y}年政务公开工作要点的通知", "关于开展{y}年度“双随机、一公开”抽查工作的通知", "关于支持外贸企业稳订单拓市场的若干措施"]
GENERIC = ["为进一步规范相关管理工作，根据有关法律法规和上级文件精神，结合本市实际，制定本办法。",
           "各区人民政府、市政府各部门要高度重视，加强组织领导，明确责任分工，确保各项任务落到实处。",
           "市财政部门按规定统筹安排资金，加强资金使用绩效评价，提高资金使用效益。",
           "建立工作推进机制，定期调度工作进展，对工作不力的单位予以通报。",
           "加强宣传引导，及时回应社会关切，营造良好社会氛围。",
           "本办法自印发之日起施行，有效期五年。此前有关规定与本办法不一致的，以本办法为准。",
           "各有关单位应当按照职责分工，密切配合，形成工作合力。",
           "申请人应当如实提交申请材料，对材料的真实性负责。",
           "对违反本规定的行为，由有关部门依法依规予以处理；构成犯罪的，依法追究刑事责任。",
           "本通知由市有关主管部门负责解释。执行中遇到的问题，请及时向主管部门反映。"]
MEETING = "关于召开{y}年{c}市新型智慧城市建设工作推进会的通知"
MEETING_BODY = ["为总结交流智慧城市建设经验，部署下一阶段重点工作，经研究，定于{y}年{m}月{d}日召开工作推进会。现将有关事项通知如下：",
                "一、会议时间：{y}年{m}月{d}日上午9:00。二、会议地点：市行政中心三楼会议室。",
                "三、参会人员：各区分管负责同志，市直有关部门分管负责同志。请各单位于会前两个工作日报送参会人员名单。"]
JIEDU = "《{c}市公共数据管理办法》政策解读"
JIEDU_BODY = ["一、起草背景。近年来，我市公共数据工作取得积极进展，但仍存在数据共享不充分等问题。",
              "二、主要内容。《办法》共六章三十条，明确了公共数据的归集、共享、开放和安全管理要求。",
              "三、解读机关：市数据主管部门。解读人：有关处室负责同志。"]
REPORT_PARAS = [
    "过去一年，面对复杂严峻的外部环境，在市委的坚强领导下，全市上下攻坚克难，地区生产总值增长百分之五点五，经济运行稳中向好。",
    "坚持生态优先、绿色发展，深入打好污染防治攻坚战，空气质量优良天数比例达到百分之九十，全面消除黑臭水体。",
    "积极稳妥推进碳达峰碳中和，大力发展新能源和清洁能源，单位地区生产总值能耗下降百分之三，节能降碳成效明显。",
    "加强生态保护和生态修复，完成植树造林二万亩，新建湿地公园三个，生物多样性保护水平持续提升。",
    "深化河长制林长制，推进垃圾分类全覆盖，城市生活污水处理率达到百分之九十八。",
    "扎实推进科技创新，新增国家高新技术企业八百家，研发投入强度提高到百分之三点二。",
    "持续改善民生，城镇新增就业十五万人，新建改建中小学和幼儿园四十所，新增养老床位二千张。",
    "深化营商环境改革，新增市场主体十二万户，政务服务事项网上可办率达到百分之九十八。",
    "加强大气污染、水污染、土壤污染综合治理，严格管控扬尘和固体废物，推动减排目标全面完成。",
    "今年经济社会发展的主要预期目标是：地区生产总值增长百分之五左右，居民人均可支配收入与经济增长同步。",
    "持续推进绿色低碳转型，发展可再生能源，加强环境保护和环境治理，建设人与自然和谐共生的美丽城市。",
    "统筹发展和安全，守牢安全生产底线，提升防灾减灾救灾能力，维护社会大局和谐稳定。",
]


@dataclass
class Doc:
    city: CitySpec
    n: int
    title: str
    paras: list
    cats: tuple
    is_policy: bool
    published: date
    written: date
    doc_number: Optional[str] = None     # as printed (bracket variant)
    normative: bool = False
    validity: Optional[str] = "有效"
    issuer: str = ""
    index_number: str = ""
    subject: str = ""
    attachments: list = field(default_factory=list)   # (path, text, host or None)
    path: str = ""
    repost_of: Optional["Doc"] = None
    kind: str = "doc"


def _doc_no(rng, spec: CitySpec, year: int, normative: bool, style: str, used: set) -> str:
    """A document number unique within the city (two documents never share one)."""
    o, c = style[0], style[1]
    while True:
        prefix = rng.choice([f"{spec.abbr}府", f"{spec.abbr}府办", f"{spec.abbr}府函", f"{spec.abbr}政办"])
        if normative:
            prefix = rng.choice([f"{spec.abbr}府规", f"{spec.abbr}府办规"])
        n = rng.randint(1, 60)
        if (prefix, year, n) not in used:
            used.add((prefix, year, n))
            return f"{prefix}{o}{year}{c}{n}号"


def _focused(rng, cat: str, k: int = 2) -> list:
    paras = FOCUS[cat][:]
    rng.shuffle(paras)
    return paras[:k]


def _generic(rng, k: int) -> list:
    return rng.sample(GENERIC, k)


def _date(rng, year: int, ref: date) -> date:
    end = min(date(year, 12, 28), ref - timedelta(days=3))
    start = date(year, 1, 5)
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _make_docs(rng: random.Random, spec: CitySpec, ref: date) -> list[Doc]:
    docs: list[Doc] = []
    used: set = set()
    cats = list(CATS)
    rng.shuffle(cats)
    c = spec.name

    def new(title, paras, cats_, is_policy=True, normative=False, numbered=True, year=None, **kw):
        year = year or rng.choice(YEARS)
        pub = _date(rng, year, ref)
        written = pub - timedelta(days=rng.randint(2, 20))
        if written.year != pub.year:
            written = pub
        style = "〔〕"
        if spec.code == "420100":
            style = rng.choice(["[]", "（）", "〔〕"])
        d = Doc(spec, len(docs) + 1, title.format(c=c, y=year), paras, tuple(sorted(cats_)), is_policy, pub, written,
                _doc_no(rng, spec, written.year, normative, style, used) if numbered else None, normative, **kw)
        d.issuer = rng.choice([f"{c}市人民政府", f"{c}市人民政府办公厅", f"{c}市{rng.choice(spec.depts)}"])
        d.subject = rng.choice(["综合政务\\其他", "科技、教育\\科技", "工业、交通\\信息产业", "国民经济管理、国有资产监管\\其他"])
        docs.append(d)
        return d

    # 12 focused policies (one per category), 3 of them normative.
    for i, cat in enumerate(cats):
        title = rng.choice(TITLES[cat])
        paras = _generic(rng, 1) + _focused(rng, cat, 2) + _generic(rng, 2)
        new(title, paras, [cat], normative=i < 3)
    # 4 two-category policies: title in A, two focused paragraphs of B in the body.
    for i in range(4):
        a, b = cats[i], cats[(i + 5) % 12]
        title = rng.choice(TITLES[a])
        paras = _generic(rng, 1) + _focused(rng, a, 2) + FOCUS[b][:2] + _generic(rng, 1)
        new(title, paras, [a, b], normative=(i == 0))
    # 2 title-only matches: a 印发 notice whose body is one sentence (the measure itself is an attachment).
    for i in range(2):
        cat = cats[6 + i]
        inner = rng.choice(TITLES[cat]).format(c=c)
        inner = re.sub(r"^关于", "", inner)
        wrapped = re.match(r"^.*?(?:关于印发|印发关于|^印发)(.+)的通知$", inner)   # a notice's own title: keep the measure's
        if wrapped:
            inner = wrapped.group(1)
        title = f"{c}市人民政府办公厅关于印发《{inner}》的通知"
        paras = ["各区人民政府，市政府各部门、各直属机构：", f"经市政府同意，现将《{inner}》印发给你们，请认真组织实施。",
                 f"{c}市人民政府办公厅"]
        new(title, paras, [cat])
    # 6 other policies, two with a passing mention of a digital term.
    others = rng.sample(OTHER_TITLES, 6)
    passing = rng.sample(sorted(PASSING), 2)
    for i, t in enumerate(others):
        paras = _generic(rng, 4)
        if i < 2:
            paras.insert(2, PASSING[passing[i]])
        new(t, paras, [], normative=(i == 2))
    # A meeting notice on smart cities and a 政策解读: not policies.
    y = rng.choice(YEARS[2:])
    m, dd = rng.randint(3, 11), rng.randint(1, 28)
    new(MEETING, [p.format(y=y, m=m, d=dd) for p in MEETING_BODY], [], is_policy=False, numbered=False, year=y)
    # The interpretation is labelled with the topic of the document it explains (not counted: not a policy).
    new(JIEDU, JIEDU_BODY[:], ["data_management"], is_policy=False, numbered=False)
    # A 失效 document in a category (counted in its year; not a valid normative document).
    cat = cats[11]
    d = new(rng.choice(TITLES[cat]), _generic(rng, 1) + _focused(rng, cat, 2) + _generic(rng, 1), [cat],
            normative=True, year=2021, validity="失效")
    for i, d in enumerate(docs):
        d.path = f"/zcwj/{d.published:%Y%m}/t{d.published:%Y%m%d}_{int(spec.code) % 1000 * 100 + i + 1}.html"
        d.index_number = f"{spec.code}00-{d.written.year}-{i + 1:05d}"
    return docs


def _reposts(rng, spec: CitySpec, docs: list[Doc]) -> list[Doc]:
    """A department reposts one numbered document (same 文号) and one unnumbered one with near-identical text."""
    out = []
    numbered = [d for d in docs if d.doc_number and d.is_policy and d.cats]
    src = numbered[0]
    r = Doc(spec, 900, src.title, src.paras[:], src.cats, True, src.published + timedelta(days=2), src.written,
            src.doc_number.replace("〔", "[").replace("〕", "]"), src.normative, src.validity, src.issuer,
            src.index_number.replace("-", "-B", 1), src.subject, [], "", src, "repost")
    r.path = f"/bmwj/{spec.depts[0] and 'fgw'}/{r.published:%Y%m}/t{r.published:%Y%m%d}_9{spec.code[-3:]}01.html"
    out.append(r)
    plain = [d for d in docs if d.is_policy and d.cats and len(d.paras) >= 4 and d is not src and not d.normative]
    src2 = plain[-1]
    src2.doc_number = None      # issued without a number (常见于部门通知)
    r2 = Doc(spec, 901, src2.title, ["（转载）"] + src2.paras[:] + ["来源：市政府门户网站"], src2.cats, True,
             src2.published + timedelta(days=1), src2.written, None, src2.normative, src2.validity, src2.issuer,
             src2.index_number.replace("-", "-C", 1), src2.subject, [], "", src2, "repost")
    r2.path = f"/bmwj/zx/{r2.published:%Y%m}/t{r2.published:%Y%m%d}_9{spec.code[-3:]}02.html"
    out.append(r2)
    return out


# --- attachments ---------------------------------------------------------------------------------

def make_pdf(lines: list[str]) -> bytes:
    """A small valid PDF whose text (CJK included) is extractable: a Type0 font with Identity-H
    encoding, CIDs equal to the characters' code points and a ToUnicode CMap for them."""
    chars = sorted({ch for line in lines for ch in line})
    stream_lines = ["BT", "/F1 12 Tf", "14 TL", "50 780 Td"]
    for line in lines:
        stream_lines.append("<" + "".join(f"{ord(ch):04X}" for ch in line) + "> Tj T*")
    stream_lines.append("ET")
    content = "\n".join(stream_lines).encode()
    bf = []
    for i in range(0, len(chars), 100):
        chunk = chars[i:i + 100]
        bf.append(f"{len(chunk)} beginbfchar\n" + "\n".join(f"<{ord(ch):04X}> <{ord(ch):04X}>" for ch in chunk)
                  + "\nendbfchar")
    cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + "\n".join(bf) +
            "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend").encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 1000 >>",
        b"<< /Length " + str(len(cmap)).encode() + b" >>\nstream\n" + cmap + b"\nendstream",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 4 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def make_docx(paragraphs: list[str]) -> bytes:
    """A minimal valid DOCX (a zip of WordprocessingML)."""
    from xml.sax.saxutils import escape

    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '</Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '</Relationships>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + body + '<w:sectPr/></w:body></w:document>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            z.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def big_pdf_body(info: RequestInfo) -> bytes:
    """50 MB, generated per request (nothing kept in memory between requests)."""
    head = b"%PDF-1.4\n% large scanned attachment\n"
    return head + bytes(BIG_ATTACHMENT_BYTES - len(head))


CORRUPT_PDF = b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\x00\x9c\xff garbage \xfe" + bytes(range(256)) * 4


# --- rendering -----------------------------------------------------------------------------------

def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _issuer_as_written(d: Doc) -> str:
    """A department of the city is written '市…' (as on real 信息公开 pages); the government by its full name."""
    own = f"{d.city.name}市"
    if d.issuer.startswith(own) and "人民政府" not in d.issuer:
        return "市" + d.issuer[len(own):]
    return d.issuer


def _meta_rows(d: Doc) -> dict:
    # 生成日期 (when the CMS generated the page, as TRS 信息公开 pages show it) is not the written date.
    return {"索引号": d.index_number, "主题分类": d.subject, "发文机关": _issuer_as_written(d),
            "生成日期": f"{d.published + timedelta(days=1):%Y-%m-%d}", "成文日期": f"{d.written:%Y年%m月%d日}",
            "标题": d.title, "发文字号": d.doc_number or "", "发布日期": f"{d.published:%Y-%m-%d}",
            "有效性": d.validity or ""}


def _att_html(d: Doc) -> str:
    if not d.attachments:
        return ""
    links = "".join(f'<li><a href="{p if host is None else "http://" + host + p}">{_esc(t)}</a></li>'
                     for p, t, host in d.attachments)
    return f'<div class="fjxz"><p>附件：</p><ul>{links}</ul></div>'


def render_detail(d: Doc, site_name: str) -> bytes:
    paras = "".join(f"<p>　　{_esc(p)}</p>" for p in d.paras)
    meta = _meta_rows(d)
    if d.city.template == "gkml":
        rows = (f'<tr><td class="b12c"><b>索&nbsp;引&nbsp;号：</b></td><td>{meta["索引号"]}</td>'
                f'<td class="b12c"><b>主题分类：</b></td><td>{_esc(meta["主题分类"])}</td></tr>'
                f'<tr><td class="b12c"><b>发文机关：</b></td><td>{meta["发文机关"]}</td>'
                f'<td class="b12c"><b>成文日期：</b></td><td>{meta["成文日期"]}</td></tr>'
                f'<tr><td class="b12c"><b>标　　题：</b></td><td colspan="3">{_esc(d.title)}</td></tr>'
                f'<tr><td class="b12c"><b>发文字号：</b></td><td>{meta["发文字号"]}</td>'
                f'<td class="b12c"><b>发布日期：</b></td><td>{d.published:%Y年%m月%d日}</td></tr>')
        if d.validity and d.normative:
            rows += f'<tr><td class="b12c"><b>有&nbsp;效&nbsp;性：</b></td><td colspan="3">{d.validity}</td></tr>'
        html = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{_esc(d.title)}_{site_name}</title>
<meta name="ArticleTitle" content="{_esc(d.title)}"><meta name="PubDate" content="{d.published:%Y-%m-%d} 09:30">
</head><body><div class="top"><a href="/">首页</a><a href="/zcwj/">政策文件</a><a href="/gfxwj/">规范性文件</a></div>
<div class="wrap"><table class="bd1" width="100%" border="0">{rows}</table>
<div class="article"><h1>{_esc(d.title)}</h1>
<div class="pages_content" id="UCAP-CONTENT">{f'<p style="text-align:center">{d.doc_number}</p>' if d.doc_number else ''}{paras}</div>
{_att_html(d)}</div></div><div class="footer">主办：{d.city.name}市人民政府办公厅　网站标识码 {d.city.code}0001</div></body></html>"""
        return html.encode("utf-8")
    if d.city.template == "xxgk":
        lis = "".join(f"<li><label>{k}：</label><span>{_esc(v)}</span></li>" for k, v in meta.items()
                      if v and k != "标题")
        if d.normative:
            lis += "<li><label>文件类型：</label><span>规范性文件</span></li>"
        html = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_esc(d.title)} - {site_name}</title></head>
<body><div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/zcwj/">政府文件</a></li></ul></div>
<div class="xxgk-detail"><div class="xxgk-meta"><ul>{lis}</ul></div>
<h2 class="article-title">{_esc(d.title)}</h2>
<div class="xxgk_content"><div class="TRS_Editor">{paras}</div></div>{_att_html(d)}</div>
<div class="footer">{d.city.name}市人民政府办公厅主办</div></body></html>"""
        return html.encode("utf-8")
    # gbk: a legacy 信息公开 page in GBK declared gb2312, label cells.
    rows = "".join(f'<TR><TD class="t" width="90">{k}</TD><TD>{_esc(v)}</TD></TR>' for k, v in meta.items() if v)
    html = f"""<HTML><HEAD><META http-equiv="Content-Type" content="text/html; charset=gb2312">
<TITLE>{_esc(d.title)}</TITLE></HEAD><BODY><TABLE width="980" align="center"><TR><TD>
<TABLE class="xxgk_table" border="1" cellspacing="0">{rows}</TABLE>
<DIV id="zoom">{paras}</DIV>{_att_html(d)}</TD></TR></TABLE>
<DIV class="foot">{d.city.name}市人民政府 版权所有</DIV></BODY></HTML>"""
    return html.encode("gbk")


def _row(d: Doc, host: str) -> str:
    return f'<li><a href="{d.path}" target="_blank" title="{_esc(d.title)}">{_esc(d.title)}</a><span class="date">{d.published:%Y-%m-%d}</span></li>'


def _trs_pages(items: list[Doc], folder: str, heading: str, host: str) -> dict[str, Resource]:
    pages = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    out = {}
    for n, chunk in enumerate(pages):
        name = "index.html" if n == 0 else f"index_{n}.html"
        rows = "".join(_row(d, host) for d in chunk)
        out[f"{folder}{name}"] = Resource(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{heading}</title></head><body>
<div class="nav"><a href="/">首页</a> &gt; {heading}</div><div class="list"><ul>{rows}</ul></div>
<div class="page"><script type="text/javascript">
var currentPage = {n};//所在页从0开始
var countPage = {len(pages)}//共多少页
createPageHTML(countPage, currentPage, "index", "html");
</script></div></body></html>""".encode("utf-8"))
    return out


def _query_list_fn(items: list[Doc], heading: str, host: str):
    pages = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]

    def body(info: RequestInfo) -> bytes:
        q = parse_qs(urlsplit(info.path).query)
        try:
            n = int((q.get("page") or ["1"])[0])
        except ValueError:
            n = 1
        chunk = pages[n - 1] if 1 <= n <= len(pages) else []
        rows = "".join(f'<tr><td class="xh">{i + 1 + (n - 1) * PAGE_SIZE}</td><td class="bt"><a href="{d.path}">{_esc(d.title)}</a></td>'
                       f'<td class="wh">{d.doc_number or ""}</td><td class="rq">{d.published:%Y年%m月%d日}</td></tr>' for i, d in enumerate(chunk))
        nxt = f'<a href="list.html?page={n + 1}">下一页</a>' if n < len(pages) else '<span>下一页</span>'
        prev = f'<a href="list.html?page={n - 1}">上一页</a>' if n > 1 else '<span>上一页</span>'
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{heading}</title></head><body>
<div class="crumb"><a href="/">首页</a> &gt; {heading}</div>
<table class="zcwj-list"><tr><th>序号</th><th>标题</th><th>文号</th><th>发布日期</th></tr>{rows}</table>
<div class="pager"><a href="list.html?page=1">首页</a>{prev}<span>第{n}页/共{len(pages)}页</span>{nxt}</div></body></html>""".encode("utf-8")
    return body


def _api_fn(items: list[Doc]):
    def body(info: RequestInfo) -> bytes:
        q = parse_qs(urlsplit(info.path).query)
        try:
            n = int((q.get("pageNo") or ["1"])[0])
            size = int((q.get("pageSize") or [str(PAGE_SIZE)])[0])
        except ValueError:
            return json.dumps({"code": 400, "msg": "bad page"}).encode()
        chunk = items[(n - 1) * size:n * size]
        rows = [{"docTitle": d.title, "docUrl": d.path, "pubDate": f"{d.published:%Y-%m-%d}", "fileNum": d.doc_number or ""}
                for d in chunk]
        return json.dumps({"code": 200, "msg": "success", "data": {"total": len(items), "pageNo": n, "rows": rows}},
                          ensure_ascii=False).encode("utf-8")
    return body


SHELL = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{heading}</title>
<script src="/static/js/chunk-vendors.js"></script></head><body><div id="app"></div>
<script>window.__API__="/api/zcwj/list";</script></body></html>"""


# --- truth ---------------------------------------------------------------------------------------

def _fold(t: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", t))


# The environmental terms of work_report_env_term_freq, as data of the sample web (the indicator's
# definition); the crawler's lexicon (collectors/lexicons/policy.yaml env_terms) is checked against it by
# tests/sampleweb/test_truth_boundary.py, never imported.
ENV_TERMS = ("生态环境", "生态文明", "生态保护", "生态修复", "环境保护", "环境治理", "污染防治", "大气污染", "水污染", "土壤污染",
             "碳达峰", "碳中和", "节能减排", "节能降碳", "绿色发展", "绿色低碳", "低碳", "新能源", "清洁能源", "可再生能源", "蓝天",
             "碧水", "净土", "空气质量", "污水处理", "垃圾分类", "河长制", "林长制", "植树造林", "湿地", "生物多样性", "环保", "减排",
             "排放", "扬尘", "黑臭水体", "固体废物", "双碳")


def env_truth(paras: list[str]) -> float:
    terms = sorted(set(ENV_TERMS), key=lambda t: (-len(t), t))
    text = "".join(_fold(p) for p in paras)
    n, i = 0, 0
    while i < len(text):
        for t in terms:
            if text.startswith(t, i):
                n += 1
                i += len(t)
                break
        else:
            i += 1
    return round(n * 10000 / len(text), 4)


def _truth(web: SampleWeb, spec: CitySpec, canon: list[Doc], report_paras: list[str], report_year: int) -> list[TruthRow]:
    rows = []
    ref = web.reference_date
    periods = [(str(y), lambda d, y=y: d.published.year == y) for y in YEARS] + [(ref.isoformat(), lambda d: True)]
    for period, inside in periods:
        docs = [d for d in canon if d.is_policy and inside(d)]
        vals = {"policy_docs_total": len(docs),
                "policy_digital_gov": sum(any(GROUP[c] == "digital_gov" for c in d.cats) for d in docs),
                "policy_digital_ecosystem": sum(any(GROUP[c] == "digital_ecosystem" for c in d.cats) for d in docs),
                "policy_normative_smart_governance": sum(d.normative and d.validity not in ("失效", "废止") and bool(d.cats)
                                                         for d in docs)}
        for c in CATS:
            vals[f"policy_cat_{c}"] = sum(c in d.cats for d in docs)
        rows.extend(TruthRow(spec.code, k, period, v, "ok") for k, v in vals.items())
    rows.append(TruthRow(spec.code, "work_report_env_term_freq", str(report_year), env_truth(report_paras), "ok"))
    return rows


# --- the generator -------------------------------------------------------------------------------

def add_policies(web: SampleWeb, rng: random.Random) -> None:
    LABELS.clear()
    ISSUERS.clear()
    WRITTEN.clear()
    ref = web.reference_date
    known = {c.code for c in web.cities}
    for spec in CITIES:
        if spec.code not in known:
            continue
        host = f"xxgk.{spec.slug}.gov.cn.test"
        site_name = f"{spec.name}市人民政府信息公开"
        site = web.add_site(Site(host=host, city_code=spec.code, kind="policy", template=spec.template,
                                 robots_txt="User-agent: *\nDisallow: /admin/\n",
                                 notes=f"policy library: {spec.paging} paging, {spec.template} detail pages"))
        docs = _make_docs(rng, spec, ref)
        reposts = _reposts(rng, spec, docs)
        _attachments(web, rng, spec, docs, site)
        for d in docs + reposts:
            enc = "text/html; charset=gb2312" if spec.template == "gbk" else "text/html; charset=utf-8"
            site.resources[d.path] = Resource(render_detail(d, site_name), content_type=enc)
        for d in docs:
            LABELS[f"http://{host}{d.path}"] = (d.is_policy, d.cats)
            ISSUERS[f"http://{host}{d.path}"] = d.issuer
            WRITTEN[f"http://{host}{d.path}"] = d.written
        listed = sorted(docs + reposts, key=lambda d: (d.published, d.path), reverse=True)
        normative = [d for d in listed if d.normative]
        start, extra = _lists(site, spec, listed, normative, host)
        # Government work reports: the latest is read; an older one and an interpretation are listed too.
        report_year = ref.year
        report_paras = rng.sample(REPORT_PARAS, 9)
        older = rng.sample(REPORT_PARAS, 7)
        reports = [(f"{report_year}年{spec.name}市政府工作报告{spec.report_title_extra}", report_paras, f"/zfgzbg/{report_year}/t{report_year}0120_1.html",
                    date(report_year, 1, 20)),
                   (f"图解：{report_year}年政府工作报告", ["一图读懂今年政府工作报告。"], f"/zfgzbg/{report_year}/t{report_year}0121_2.html",
                    date(report_year, 1, 21)),
                   (f"{report_year - 1}年{spec.name}市政府工作报告", older, f"/zfgzbg/{report_year - 1}/t{report_year - 1}0118_3.html",
                    date(report_year - 1, 1, 18))]
        rows = ""
        for title, paras, path, when in reports:
            body = "".join(f"<p>{_esc(p)}</p>" for p in paras)
            page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{_esc(title)}</title></head><body>
<div class="nav"><a href="/">首页</a> &gt; 政府工作报告</div><h1>{_esc(title)}</h1><div class="info">发布日期：{when:%Y-%m-%d}</div>
<div class="article-content">{body}</div><div class="footer">{spec.name}市人民政府办公厅</div></body></html>"""
            site.resources[path] = Resource(page.encode("utf-8"))
            rows += f'<li><a href="{path}">{_esc(title)}</a><span>{when:%Y-%m-%d}</span></li>'
        site.resources["/zfgzbg/index.html"] = Resource(
            f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府工作报告</title></head><body>
<ul class="list">{rows}</ul></body></html>""".encode("utf-8"))
        options = {"work_report": "/zfgzbg/index.html", "attachment_max_bytes": ATTACHMENT_CAP_BYTES,
                   "lists": extra, **start[1]}
        web.sources.append({"city": spec.code, "kind": "policy", "name": f"{spec.name}市政策文件库",
                            "start_url": f"http://{host}{start[0]}",
                            "allowed_domains": [f"{spec.slug}.gov.cn.test"], "options": options})
        canon = docs
        web.truth.extend(_truth(web, spec, canon, report_paras, report_year))


def _lists(site: Site, spec: CitySpec, listed: list[Doc], normative: list[Doc], host: str):
    """List resources in the city's pagination style; returns ((start path, options), extra lists)."""
    extra = []
    if spec.paging == "trs":
        site.resources.update(_trs_pages(listed, "/zcwj/", "政策文件", host))
        site.resources["/zcwj/"] = Resource(b"", redirect_to="/zcwj/index.html")
        if normative:
            site.resources.update(_trs_pages(normative, "/gfxwj/", "规范性文件", host))
            extra.append({"url": "/gfxwj/index.html", "normative": True})
        return ("/zcwj/index.html", {}), extra
    if spec.paging == "query":
        n_pages = max(1, -(-len(listed) // PAGE_SIZE))
        fn = _query_list_fn(listed, "政策文件", host)
        for n in range(1, n_pages + 2):
            site.resources[f"/zcwj/list.html?page={n}"] = Resource(fn)
        site.resources["/zcwj/list.html"] = Resource(fn)
        return ("/zcwj/list.html?page=1", {}), extra
    # api
    site.resources["/zcwj/index.html"] = Resource(SHELL.format(heading="政策文件").encode("utf-8"), needs_browser=True)
    fn = _api_fn(listed)
    n_pages = max(1, -(-len(listed) // PAGE_SIZE))
    for n in range(1, n_pages + 2):
        site.resources[f"/api/zcwj/list?pageNo={n}&pageSize={PAGE_SIZE}"] = Resource(fn, content_type="application/json; charset=utf-8")
    api = {"url": "/api/zcwj/list?pageNo={page}&pageSize=" + str(PAGE_SIZE),
           "fields": {"items": "data.rows", "total": "data.total", "title": "docTitle", "url": "docUrl", "date": "pubDate"}}
    return ("/zcwj/index.html", {"api": api}), extra


def _attachments(web: SampleWeb, rng, spec: CitySpec, docs: list[Doc], site: Site) -> None:
    with_cat = [d for d in docs if d.is_policy and d.cats]
    d = with_cat[1]
    if spec.code == "440300":
        pdf = make_pdf([f"附件1", f"{d.title}重点任务分工表", "序号 任务 责任单位 完成时限", "1 建立工作机制 市有关部门 2026年底前"])
        site.resources["/attach/2026/P020260105_tasks.pdf"] = Resource(pdf, content_type="application/pdf")
        docx = make_docx(["附件2", "名词解释", "本文件所称有关部门，是指市政府组成部门和直属机构。"])
        site.resources["/attach/2026/P020260105_terms.docx"] = Resource(
            docx, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        d.attachments = [("/attach/2026/P020260105_tasks.pdf", "附件1：重点任务分工表.pdf", None),
                         ("/attach/2026/P020260105_terms.docx", "附件2：名词解释.docx", None)]
    elif spec.code == "330100":
        docx = make_docx(["附件", "申报材料清单", "1. 申请表；2. 营业执照复印件。"])
        site.resources["/attach/sbcl.docx"] = Resource(docx, content_type="application/octet-stream")
        d.attachments = [("/attach/sbcl.docx", "申报材料清单.docx", None)]
    elif spec.code == "450100":
        site.resources["/attach/fj1.doc"] = Resource(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048),
                                                     content_type="application/msword")
        d.attachments = [("/attach/fj1.doc", "附件1.doc", None)]
    elif spec.code == "350200":
        site.resources["/attach/broken.pdf"] = Resource(CORRUPT_PDF, content_type="application/pdf")
        file_host = "file.xm.gov.cn.test"
        web.add_site(Site(host=file_host, city_code=spec.code, kind="policy", gzip=False, template="static",
                          notes="attachment server: a 50 MB scanned PDF (skipped by the size cap)",
                          resources={"/upload/2025/scan_50mb.pdf": Resource(big_pdf_body, content_type="application/pdf",
                                                                            etag=False)}))
        d.attachments = [("/attach/broken.pdf", "附件1.pdf", None),
                         ("/upload/2025/scan_50mb.pdf", "附件2（扫描件）.pdf", file_host)]
