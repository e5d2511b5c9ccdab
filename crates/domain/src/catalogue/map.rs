//! Texts of the epidemiological map (staff) and the public page.

catalogue! {
    Map {
        StaffTitle { vi: "Bản đồ dịch tễ", en: "Epidemiological map" },
        PublicTitle { vi: "Tình hình dịch COVID-19", en: "COVID-19 situation" },
        PublicIntro {
            vi: "Cấp độ dịch của từng xã, phường theo quyết định của cơ quan có thẩm quyền, số ca mắc mới và các địa điểm liên quan đến ca bệnh.",
            en: "Each commune's risk level as officially decided, new cases, and the places linked to cases.",
        },
        ShowLevels { vi: "Hiển thị cấp độ", en: "Show levels" },
        Official { vi: "Chính thức (theo quyết định)", en: "Official (as decided)" },
        Computed { vi: "Tính theo tiêu chí (gợi ý)", en: "Computed from the criteria (a suggestion)" },
        FromDay { vi: "Từ ngày", en: "From" },
        ToDay { vi: "Đến ngày", en: "To" },
        Class { vi: "Phân loại", en: "Classification" },
        AllClasses { vi: "Tất cả", en: "All" },
        Apply { vi: "Xem", en: "Show" },
        FindCase { vi: "Tìm ca bệnh (số ca hoặc số CCCD)", en: "Find a case (case number or citizen id)" },
        Find { vi: "Tìm", en: "Find" },
        Legend { vi: "Chú giải", en: "Legend" },
        MapLabel { vi: "Bản đồ cấp độ dịch theo xã, phường", en: "Map of the communes' risk levels" },
        Commune { vi: "Xã, phường, thị trấn", en: "Commune" },
        District { vi: "Huyện, thị xã, thành phố", en: "District" },
        Level { vi: "Cấp độ", en: "Level" },
        ComputedLevel { vi: "Cấp độ tính được", en: "Computed level" },
        Decision { vi: "Quyết định", en: "Decision" },
        CasesInRange { vi: "Số ca trong khoảng ngày", en: "Cases in the range" },
        NewToday { vi: "Ca mới hôm nay", en: "New today" },
        New7Days { vi: "Ca mới 7 ngày", en: "New in 7 days" },
        Coverage { vi: "Tỷ lệ người lớn tiêm ít nhất 1 mũi", en: "Adults with at least one dose" },
        NoFigure { vi: "chưa có số liệu", en: "no figure yet" },
        LevelsTable { vi: "Cấp độ dịch và số ca theo xã, phường", en: "Levels and cases by commune" },
        DistrictsTable { vi: "Số liệu theo huyện", en: "Figures by district" },
        DecisionInForce {
            vi: "Cấp độ theo Quyết định số {number} ngày {date} của {issued_by}, áp dụng từ {from}.",
            en: "Levels as set by Decision {number} of {date} by {issued_by}, in force from {from}.",
        },
        NoDecision {
            vi: "Chưa có quyết định công bố cấp độ dịch.",
            en: "No decision on the levels has been published yet.",
        },
        ExposurePlaces { vi: "Địa điểm liên quan đến ca bệnh", en: "Places linked to cases" },
        ExposureAdvice {
            vi: "Nếu bạn đã ở một trong các nơi này trong khung giờ nêu, hãy khai báo y tế, tự theo dõi sức khỏe và gọi đường dây nóng khi có triệu chứng.",
            en: "If you were at one of these places at the time shown, declare your health, watch for symptoms and call the hotline if you have any.",
        },
        NoExposurePlaces { vi: "Hiện không có địa điểm nào được công bố.", en: "No places are published at present." },
        Place { vi: "Địa điểm", en: "Place" },
        When { vi: "Thời gian", en: "When" },
        DeclareNow { vi: "Khai báo y tế", en: "Declare your health" },
        PublicLink { vi: "Tình hình dịch và bản đồ cấp độ", en: "The situation and the risk map" },
        WithoutJavaScript {
            vi: "Bảng dưới đây có đủ thông tin của bản đồ.",
            en: "The table below holds everything the map shows.",
        },
    }
}
