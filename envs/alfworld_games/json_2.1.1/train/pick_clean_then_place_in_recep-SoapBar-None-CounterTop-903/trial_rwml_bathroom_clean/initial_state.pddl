
(define (problem plan_trial_rwml_bathroom_clean)
(:domain alfred)
(:objects
agent1 - agent
        CandleType - otype
        SoapBarType - otype
        SprayBottleType - otype
        ToiletPaperType - otype
        TowelType - otype
        CabinetType - rtype
        CounterTopType - rtype
        GarbageCanType - rtype
        SinkBasinType - rtype
        ToiletType - rtype
        TowelHolderType - rtype
        SoapBar_bar__plus_00_dot_21_bar__plus_01_dot_63_bar__minus_01_dot_49 - object
        SprayBottle_bar__plus_00_dot_58_bar__plus_01_dot_74_bar__minus_02_dot_02 - object
        ToiletPaper_bar__plus_00_dot_95_bar__plus_01_dot_85_bar__minus_02_dot_55 - object
        Towel_bar__plus_01_dot_32_bar__plus_01_dot_96_bar__minus_03_dot_08 - object
        Candle_bar__plus_01_dot_69_bar__plus_00_dot_07_bar__minus_03_dot_61 - object
        CounterTop_bar__plus_00_dot_62_bar__plus_00_dot_86_bar__minus_01_dot_78 - receptacle
        Sink_bar__plus_00_dot_99_bar__plus_00_dot_97_bar__minus_02_dot_31_bar_SinkBasin - receptacle
        Toilet_bar__plus_01_dot_36_bar__plus_01_dot_08_bar__minus_02_dot_84 - receptacle
        Cabinet_bar__plus_01_dot_73_bar__plus_01_dot_19_bar__minus_03_dot_37 - receptacle
        Cabinet_bar__plus_02_dot_10_bar__plus_01_dot_30_bar__minus_03_dot_90 - receptacle
        GarbageCan_bar__plus_02_dot_47_bar__plus_01_dot_41_bar__minus_00_dot_43 - receptacle
        TowelHolder_bar__plus_02_dot_84_bar__plus_01_dot_52_bar__minus_00_dot_96 - receptacle
        loc_bar_0_bar_1_bar_0_bar_30 - location
        loc_bar_1_bar_1_bar_0_bar_30 - location
        loc_bar_2_bar_1_bar_0_bar_30 - location
        loc_bar_3_bar_1_bar_0_bar_30 - location
        loc_bar_3_bar_2_bar_0_bar_30 - location
        loc_bar_4_bar_1_bar_0_bar_30 - location
        loc_bar_5_bar_1_bar_0_bar_30 - location
        loc_bar_9_bar_9_bar_1_bar_45 - location
        )
(:init
        (atLocation agent1 loc_bar_9_bar_9_bar_1_bar_45)
        (receptacleType CounterTop_bar__plus_00_dot_62_bar__plus_00_dot_86_bar__minus_01_dot_78 CounterTopType)
        (receptacleAtLocation CounterTop_bar__plus_00_dot_62_bar__plus_00_dot_86_bar__minus_01_dot_78 loc_bar_0_bar_1_bar_0_bar_30)
        (receptacleType Sink_bar__plus_00_dot_99_bar__plus_00_dot_97_bar__minus_02_dot_31_bar_SinkBasin SinkBasinType)
        (receptacleAtLocation Sink_bar__plus_00_dot_99_bar__plus_00_dot_97_bar__minus_02_dot_31_bar_SinkBasin loc_bar_1_bar_1_bar_0_bar_30)
        (receptacleType Toilet_bar__plus_01_dot_36_bar__plus_01_dot_08_bar__minus_02_dot_84 ToiletType)
        (receptacleAtLocation Toilet_bar__plus_01_dot_36_bar__plus_01_dot_08_bar__minus_02_dot_84 loc_bar_2_bar_1_bar_0_bar_30)
        (receptacleType Cabinet_bar__plus_01_dot_73_bar__plus_01_dot_19_bar__minus_03_dot_37 CabinetType)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_73_bar__plus_01_dot_19_bar__minus_03_dot_37 loc_bar_3_bar_1_bar_0_bar_30)
        (openable Cabinet_bar__plus_01_dot_73_bar__plus_01_dot_19_bar__minus_03_dot_37)
        (receptacleType Cabinet_bar__plus_02_dot_10_bar__plus_01_dot_30_bar__minus_03_dot_90 CabinetType)
        (receptacleAtLocation Cabinet_bar__plus_02_dot_10_bar__plus_01_dot_30_bar__minus_03_dot_90 loc_bar_3_bar_2_bar_0_bar_30)
        (openable Cabinet_bar__plus_02_dot_10_bar__plus_01_dot_30_bar__minus_03_dot_90)
        (receptacleType GarbageCan_bar__plus_02_dot_47_bar__plus_01_dot_41_bar__minus_00_dot_43 GarbageCanType)
        (receptacleAtLocation GarbageCan_bar__plus_02_dot_47_bar__plus_01_dot_41_bar__minus_00_dot_43 loc_bar_4_bar_1_bar_0_bar_30)
        (receptacleType TowelHolder_bar__plus_02_dot_84_bar__plus_01_dot_52_bar__minus_00_dot_96 TowelHolderType)
        (receptacleAtLocation TowelHolder_bar__plus_02_dot_84_bar__plus_01_dot_52_bar__minus_00_dot_96 loc_bar_5_bar_1_bar_0_bar_30)
        (canContain CounterTopType CandleType)
        (canContain CounterTopType SoapBarType)
        (canContain CounterTopType SprayBottleType)
        (canContain CounterTopType ToiletPaperType)
        (canContain SinkBasinType SoapBarType)
        (canContain ToiletType CandleType)
        (canContain ToiletType SoapBarType)
        (canContain ToiletType SprayBottleType)
        (canContain ToiletType ToiletPaperType)
        (canContain CabinetType CandleType)
        (canContain CabinetType SoapBarType)
        (canContain CabinetType SprayBottleType)
        (canContain CabinetType ToiletPaperType)
        (canContain GarbageCanType SoapBarType)
        (canContain GarbageCanType SprayBottleType)
        (canContain GarbageCanType ToiletPaperType)
        (canContain TowelHolderType TowelType)
        (objectType SoapBar_bar__plus_00_dot_21_bar__plus_01_dot_63_bar__minus_01_dot_49 SoapBarType)
        (inReceptacle SoapBar_bar__plus_00_dot_21_bar__plus_01_dot_63_bar__minus_01_dot_49 Toilet_bar__plus_01_dot_36_bar__plus_01_dot_08_bar__minus_02_dot_84)
        (objectAtLocation SoapBar_bar__plus_00_dot_21_bar__plus_01_dot_63_bar__minus_01_dot_49 loc_bar_2_bar_1_bar_0_bar_30)
        (pickupable SoapBar_bar__plus_00_dot_21_bar__plus_01_dot_63_bar__minus_01_dot_49)
        (cleanable SoapBar_bar__plus_00_dot_21_bar__plus_01_dot_63_bar__minus_01_dot_49)
        (objectType SprayBottle_bar__plus_00_dot_58_bar__plus_01_dot_74_bar__minus_02_dot_02 SprayBottleType)
        (inReceptacle SprayBottle_bar__plus_00_dot_58_bar__plus_01_dot_74_bar__minus_02_dot_02 Cabinet_bar__plus_01_dot_73_bar__plus_01_dot_19_bar__minus_03_dot_37)
        (objectAtLocation SprayBottle_bar__plus_00_dot_58_bar__plus_01_dot_74_bar__minus_02_dot_02 loc_bar_3_bar_1_bar_0_bar_30)
        (pickupable SprayBottle_bar__plus_00_dot_58_bar__plus_01_dot_74_bar__minus_02_dot_02)
        (objectType ToiletPaper_bar__plus_00_dot_95_bar__plus_01_dot_85_bar__minus_02_dot_55 ToiletPaperType)
        (inReceptacle ToiletPaper_bar__plus_00_dot_95_bar__plus_01_dot_85_bar__minus_02_dot_55 CounterTop_bar__plus_00_dot_62_bar__plus_00_dot_86_bar__minus_01_dot_78)
        (objectAtLocation ToiletPaper_bar__plus_00_dot_95_bar__plus_01_dot_85_bar__minus_02_dot_55 loc_bar_0_bar_1_bar_0_bar_30)
        (pickupable ToiletPaper_bar__plus_00_dot_95_bar__plus_01_dot_85_bar__minus_02_dot_55)
        (objectType Towel_bar__plus_01_dot_32_bar__plus_01_dot_96_bar__minus_03_dot_08 TowelType)
        (inReceptacle Towel_bar__plus_01_dot_32_bar__plus_01_dot_96_bar__minus_03_dot_08 TowelHolder_bar__plus_02_dot_84_bar__plus_01_dot_52_bar__minus_00_dot_96)
        (objectAtLocation Towel_bar__plus_01_dot_32_bar__plus_01_dot_96_bar__minus_03_dot_08 loc_bar_5_bar_1_bar_0_bar_30)
        (pickupable Towel_bar__plus_01_dot_32_bar__plus_01_dot_96_bar__minus_03_dot_08)
        (objectType Candle_bar__plus_01_dot_69_bar__plus_00_dot_07_bar__minus_03_dot_61 CandleType)
        (inReceptacle Candle_bar__plus_01_dot_69_bar__plus_00_dot_07_bar__minus_03_dot_61 Cabinet_bar__plus_02_dot_10_bar__plus_01_dot_30_bar__minus_03_dot_90)
        (objectAtLocation Candle_bar__plus_01_dot_69_bar__plus_00_dot_07_bar__minus_03_dot_61 loc_bar_3_bar_2_bar_0_bar_30)
        (pickupable Candle_bar__plus_01_dot_69_bar__plus_00_dot_07_bar__minus_03_dot_61)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (cleanable ?o)
                            (objectType ?o SoapBarType)
                            (receptacleType ?r CounterTopType)
                            (isClean ?o)
                            (inReceptacle ?o ?r)
                        )
                    )
                )
            )
        )
    )
    