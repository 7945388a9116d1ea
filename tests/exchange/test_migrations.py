"""The data migration that removes row data from errors recorded before issue 9."""

from __future__ import annotations

import importlib

scrub = importlib.import_module("dajiuzhu.exchange.migrations.0005_scrub_batch_errors").scrub


def test_old_error_texts_lose_the_rows_they_quoted():
    leaked = (
        "CSV 文件无法解析(第1行附近):CSV parse error: Expected 9 columns, got 10: "
        "320102195610056999,熊辉,M,1956-10-05"
    )
    assert scrub(leaked) == (
        "CSV 文件无法解析(原错误信息含有文件内容,已清除;请重新报送以查看出错的行和原因)"
    )
    assert "熊辉" not in scrub("Parquet 文件无法读取:Could not convert string '熊辉'")
    assert scrub("文件的列与数据集约定不符,缺少列:id_number;多余列:320102195610056999、熊辉") == (
        "文件的列与数据集约定不符,缺少列:id_number;多余列:2列(原列名已清除)"
    )
    assert scrub("XLSX 文件无法打开:BadZipFile") == "XLSX 文件无法打开(文件可能已损坏)"
    assert scrub("处理中断(进程退出),未入库任何数据,请重新提交") == (
        "处理中断(进程退出),未入库任何数据,请重新提交"
    )
